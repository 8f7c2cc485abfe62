const variant = {
  name: 'throws-in-step',
  base: 'seed',
  overrides: (api: any) => ({
    p2mAddForeign(ctx: any, s: any, tdom: number, fgfn: number, gpfn: number, fdom: number) {
      if (fdom === 2) throw new RangeError('the variant gives up');
      return api.p2m.p2mAddForeignSeed(ctx, s, tdom, fgfn, gpfn, fdom);
    },
  }),
};
export default variant;
