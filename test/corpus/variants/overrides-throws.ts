export default { name: "x", base: "seed", overrides: () => { throw new Error("no overrides today"); } };
