// Types of bin/compiled-cli.js, which is plain JavaScript so that bin/vigil.js can run it before tsx.
export declare const compiledCliDir: string;
export declare const compiledCliManifest: string;
export declare const compiledCliEntry: string;
export declare function checkCompiledCli(dir?: string): { fresh: true; entry: string; build: string } | { fresh: false; reason: string };
