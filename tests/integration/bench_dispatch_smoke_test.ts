// `deno task bench dispatch --quick` still runs end to end (its own cluster, sandbox and
// graphile-worker) and prints every row it promises, each exactly once, so the benchmark cannot rot.
import assert from "node:assert/strict";

Deno.test({
  name: "bench dispatch --quick: six runs, each exactly once, and the ratios",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const root = new URL("../../", import.meta.url).pathname;
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "tests/bench/main.ts", "dispatch", "--quick", "--jobs", "200"],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout);
    assert.equal(output.code, 0, `${text}\n${new TextDecoder().decode(output.stderr)}`);
    for (const transport of ["HTTP", "no HTTP"]) {
      for (const worker of ["ours", "graphile-worker defaults", "graphile-worker batched"]) {
        const row = new RegExp(
          `^\\| ${transport} +\\| ${worker} +\\| [\\d.]+ +\\| \\d+ +\\| 200/200, 0 dup, 0 missing`,
          "m",
        );
        assert.match(text, row, `a row for ${transport} / ${worker}`);
      }
      assert.match(text, new RegExp(`^\\| ${transport} +\\| [\\d.]+×`, "m"), `the ratios over ${transport}`);
    }
  },
});
