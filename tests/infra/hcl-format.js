// Writes the canonical formatting of HCL files, as `terraform fmt` lays them out.
//
//   node hcl-format.js HCL_TOOLS_DIR OUT_DIR FILE...
//
// HCL_TOOLS_DIR is an installed npm package @cdktf/hcl-tools: HashiCorp's hclwrite.Format
// (the formatter `terraform fmt` is built on) compiled to WebAssembly. Each FILE's
// formatted text goes to OUT_DIR under the same base name; the caller diffs the two.
"use strict";

const fs = require("fs");
const path = require("path");

async function main() {
  const [toolsDir, outDir, ...files] = process.argv.slice(2);
  if (!toolsDir || !outDir || files.length === 0) {
    console.error("usage: node hcl-format.js HCL_TOOLS_DIR OUT_DIR FILE...");
    process.exit(2);
  }
  const { format } = require(path.resolve(toolsDir));
  for (const file of files) {
    const source = fs.readFileSync(file, "utf8");
    let formatted;
    try {
      formatted = await format(source);
    } catch (e) {
      console.error(`${file}: cannot be formatted: ${e && e.message ? e.message : e}`);
      process.exit(1);
    }
    fs.writeFileSync(path.join(outDir, path.basename(file)), formatted);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
