// ESLint flat config: typescript-eslint's recommended rules (no type
// information, so `npx eslint .` stays fast), plus the one architectural rule
// that matters most: domain code imports nothing outward (docs/ARCHITECTURE.md).
// Errors are for real problems; style-ish findings are warnings.
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

/** What src/<svc>/domain/** (and the shared src/kernel/**) may not import. */
const pureCodeImports = {
  patterns: [
    {
      regex: "^(drizzle-orm|drizzle-kit|postgres|pg|pg-[a-z-]+|pino|pino-[a-z-]+|ioredis)(/.*)?$",
      message: "Domain code is pure: persistence, logging and I/O belong in infra/ or platform/.",
    },
    {
      regex: "^@(connectrpc|grpc|bufbuild|electric-sql|opentelemetry)/",
      message: "Domain code never sees transport or proto types: map them in rpc/ (or infra/ for clients).",
    },
    {
      regex: "^\\.{1,2}/(.*/)?(gen|rpc|infra|app|platform)(/|$)",
      message: "Domain code may import only src/kernel and its own domain files (not gen/, rpc/, infra/, app/, platform/).",
    },
    {
      regex: "^\\.{1,2}/(.*/)?(config|main|app|instrumentation)(\\.[cm]?[jt]s)?$",
      message: "Domain code may import only src/kernel and its own domain files; pass settings in as arguments.",
    },
  ],
};

export default defineConfig(
  globalIgnores([
    "gen/",
    "node_modules/",
    "third_party/",
    "migrations/",
    "bench/results/",
    "coverage/",
    ".data/",
    "dist/",
  ]),
  tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: "warn" },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "warn",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
      "@typescript-eslint/no-explicit-any": "warn",
      "@typescript-eslint/no-empty-object-type": ["error", { allowInterfaces: "with-single-extends" }],
      "no-console": ["warn", { allow: ["warn", "error"] }],
      eqeqeq: ["error", "smart"],
      "no-var": "error",
      "prefer-const": "warn",
    },
  },
  {
    name: "architecture/pure-domain",
    files: ["src/*/domain/**/*.{ts,mts,cts,js,mjs}", "src/kernel/**/*.{ts,mts,cts,js,mjs}"],
    rules: { "no-restricted-imports": ["error", pureCodeImports] },
  },
  {
    name: "tests-and-tools",
    files: ["test/**", "bench/**", "scripts/**", "examples/**", "*.config.{ts,js,mjs}"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "no-console": "off",
    },
  },
);
