// Writing the reports: each script owns a section of a Markdown file and replaces only that;
// and the console's tables and check lists.

import fs from "node:fs";

/**
 * Replaces the text between `start` and `end` (the markers included) in `file` with `section`
 * (which carries the markers), or appends it when the file has no such section; a missing file
 * starts as `empty`.
 */
export function writeSection(file, start, end, section, empty = "# Benchmarks\n") {
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : empty;
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next =
    from >= 0 && to > from
      ? current.slice(0, from) + section + current.slice(to + end.length)
      : `${current.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(file, next);
}

/**
 * Replaces the section that starts at the `## ` heading `heading` and runs to the next `## `
 * heading or `<!-- ` marker (another script's marked section), by moving it to the end of `file`
 * with the text `section` (which starts with the heading); appends it when there is none.
 */
export function writeLastSection(file, heading, section) {
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "# Benchmarks\n";
  const start = current.indexOf(heading);
  const kept =
    start < 0
      ? current
      : current.slice(0, start) +
        (current
          .slice(start + 1)
          .match(/\n(?:## |<!-- )[\s\S]*$/)?.[0]
          .slice(1) ?? "");
  fs.writeFileSync(file, `${kept.trimEnd()}\n\n${section}`);
}

/**
 * Sections other scripts keep in a report between `<!-- NAME:start -->` and `<!-- NAME:end -->`,
 * to carry over when a script rewrites the whole file.
 */
export function keptSections(file) {
  let text = "";
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
  const blocks = text.match(/<!-- ([\w.-]+):start -->[\s\S]*?<!-- \1:end -->/g) ?? [];
  return blocks.map((b) => `\n${b}\n`).join("");
}

/** A console table: the first column left-aligned, the others right-aligned. */
export function printConsoleTable(head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(`\n${line(head)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const row of rows) console.log(line(row));
}

/** Checks ({ ok, warnOnly, what, detail }) on the console, one a line under `title`. */
export function printChecks(title, checks) {
  console.log(`\n${title}:`);
  for (const c of checks)
    console.log(`  ${c.ok ? "ok  " : c.warnOnly ? "WARN" : "FAIL"} ${c.what}: ${c.detail}`);
}
