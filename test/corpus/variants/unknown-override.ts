export default { name: "x", base: "seed", overrides: { p2mAddForiegn() { return 0; } } };
