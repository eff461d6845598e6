/** Types of web/build.mjs, for TypeScript importers (the e2e test). */
export declare const DEFAULT_OUTDIR: string;
export declare function buildWeb(options?: { outdir?: string; minify?: boolean }): Promise<{ outdir: string; files: string[] }>;
