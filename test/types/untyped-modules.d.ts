// Modules the tests use that ship no types (or none for the path used); each test declares the shape it needs.
declare module '@doyensec/csp-evaluator';
declare module 'app-builder-lib/out/util/config/config.js';
