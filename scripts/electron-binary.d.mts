export declare const MISSING_ELECTRON_MESSAGE: string;
export declare function electronBinaryPath(): string | null;
