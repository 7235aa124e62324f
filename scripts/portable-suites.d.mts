/** The portable suites' directories, relative to `root` (`./packages/<name>/test-deno`). */
export function portableSuiteDirs(root: string): string[];
/** The portable suites' test files, relative to `root`. */
export function portableSuiteFiles(root: string): string[];
