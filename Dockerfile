# syntax=docker/dockerfile:1
# The order service: gRPC on 50051, Connect/HTTP (+ /healthz, /readyz) on 8080.
# A build stage turns the TypeScript into JavaScript in dist/ and bundles the
# browser console into dist/web (`npm run build`, esbuild); the image runs that
# JavaScript with production dependencies only, as `npm start` does (no
# TypeScript at run time). gen/ and migrations/ are committed. No dependency
# runs an install script (package.json "allowScripts" denies them all; the npm
# of node:20 does not read that field, so --ignore-scripts says it here).
#
#   docker build -t order-service .
#   docker run --rm -p 50051:50051 -p 8080:8080 order-service          # embedded PGlite
#   docker compose up --build                                           # with Postgres and Redis

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.mjs ./scripts/build.mjs
COPY gen ./gen
COPY migrations ./migrations
COPY src ./src
COPY web ./web
RUN npm run build

FROM node:20-slim AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    GRPC_PORT=50051 \
    HTTP_PORT=8080 \
    DATA_DIR=/app/.data
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json package-lock.json tsconfig.json ./
COPY --from=build --chown=node:node /app/dist ./dist
# The sources stay for `node --import tsx scripts/migrate.ts` and
# `scripts/token.ts` (tsx is a production dependency); the service itself runs dist/.
COPY --chown=node:node gen ./gen
COPY --chown=node:node migrations ./migrations
COPY --chown=node:node scripts/migrate.ts scripts/token.ts ./scripts/
COPY --chown=node:node src ./src
# PGlite's data directory when DATA_DIR is used (DATABASE_URL unset).
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node

EXPOSE 50051 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(2500) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# node runs as PID 1 with no npm in between, so SIGTERM reaches dist/src/main.js,
# which drains both servers (`npm start` would not forward it reliably). The
# flags are package.json's "start" ones (young generation and heap growth sized
# for RSS; see README "Run it"); NODE_OPTIONS=--max-old-space-size=N adds a cap.
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=20", "--import", "./dist/src/instrumentation.js", "dist/src/main.js"]
