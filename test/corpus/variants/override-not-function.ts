export default { name: "x", base: "seed", overrides: { p2mAddForeign: 3 } };
