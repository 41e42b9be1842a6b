/**
 * The layout's rules, checked by `npm run lint` (dependency-cruiser). Type-only imports are left
 * out: the Env type naming the Durable Object classes, and stubs typed by their methods, are the
 * platform's idiom and cost nothing at run time.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "An import circle makes load order matter; break it by moving the shared part down.",
      from: { path: "^src" },
      to: {
        circular: true,
        dependencyTypesNot: ["type-only"],
        viaOnly: { dependencyTypesNot: ["type-only"] },
      },
    },
    {
      name: "pure-layers-stay-pure",
      severity: "error",
      comment:
        "routing/, streams/, access/ and protocol/ are pure: no Workers runtime, no objects, no api.",
      from: { path: "^src/(routing|streams|access|protocol)/" },
      to: {
        path: "^(cloudflare:|src/(api|objects|gateway|queue|exchange|catalog|runtime)/)",
        dependencyTypesNot: ["type-only"],
      },
    },
    {
      name: "nothing-imports-api",
      severity: "error",
      comment: "api/ is the top layer: only the Worker entry mounts it.",
      from: { path: "^src/", pathNot: "^src/(api/|index\\.ts)" },
      to: { path: "^src/api/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "config-needs-no-env",
      severity: "error",
      comment: "Configuration reads the Worker's variables (BrokerVars), not the bindings.",
      from: { path: "^src/config\\.ts$" },
      to: { path: "^src/env\\.ts$" },
    },
    {
      name: "objects-holds-durable-objects-only",
      severity: "error",
      comment:
        "src/objects/ holds one Durable Object class per file (*-object.ts); logic lives in plain modules.",
      from: { path: "^src/" },
      to: { path: "^src/objects/", pathNot: "^src/objects/[a-z-]+-object\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "^(node_modules|dist)" },
  },
};
