// Types of Vite's module queries (`?raw`, `?url`) and `import.meta.glob`, used by the suites that run in Chromium.
/// <reference types="vite/client" />
