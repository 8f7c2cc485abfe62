// A level's states, encoded back to back (in shared memory when worker threads read it).
export class FrontierBuffer {
  buf: Uint8Array;
  count = 0;
  constructor(
    readonly stride: number,
    cap = 1024,
    readonly shared = false,
  ) {
    this.buf = this.alloc(Math.max(1, stride) * cap);
  }
  private alloc(bytes: number): Uint8Array {
    return this.shared ? new Uint8Array(new SharedArrayBuffer(bytes)) : new Uint8Array(bytes);
  }
  push(enc: Uint8Array): void {
    this.makeRoom(1);
    // no subarray when the encoding is exactly one state long (the explorers' scratch buffers)
    this.buf.set(enc.length === this.stride ? enc : enc.subarray(0, this.stride), this.count * this.stride);
    this.count += 1;
  }
  private makeRoom(states: number): void {
    const need = (this.count + states) * this.stride;
    if (need > this.buf.length) {
      const bigger = this.alloc(Math.max(need, this.buf.length * 2));
      bigger.set(this.buf);
      this.buf = bigger;
    }
  }
  at(i: number): Uint8Array {
    return this.buf.subarray(i * this.stride, (i + 1) * this.stride);
  }
}
