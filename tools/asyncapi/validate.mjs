// Validate AsyncAPI documents with the official parser (schema + Spectral rules).
// Usage: node validate.mjs FILE...   Exit 1 when any document has an error; warnings are printed only.
import { Parser, fromFile } from "@asyncapi/parser";

const parser = new Parser();
const ERROR = 0; // DiagnosticSeverity.Error
let failed = false;

for (const file of process.argv.slice(2)) {
  const { document, diagnostics } = await fromFile(parser, file).parse();
  const errors = diagnostics.filter((d) => d.severity === ERROR);
  for (const d of diagnostics) {
    const where = d.path && d.path.length ? d.path.join(".") : "(root)";
    const level = d.severity === ERROR ? "error" : "warning";
    console.log(`${file}: ${level} ${d.code} at ${where}: ${d.message}`);
  }
  if (!document || errors.length) {
    failed = true;
    console.log(`${file}: INVALID (${errors.length} error(s))`);
  } else {
    console.log(`${file}: valid AsyncAPI ${document.version()} (${diagnostics.length - errors.length} warning(s))`);
  }
}
process.exit(failed ? 1 : 0);
