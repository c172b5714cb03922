// Line diff (longest common subsequence) of two texts, for "what this edit changes".

export interface DiffLine {
  op: ' ' | '+' | '-';
  text: string;
}

export function diffLines(before: string, after: string): DiffLine[] {
  const a = before.replace(/\n$/, '').split('\n');
  const b = after.replace(/\n$/, '').split('\n');
  // Common head and tail first: edits are usually small.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  const mid: DiffLine[] = [];
  if (x.length * y.length > 4_000_000) {
    x.forEach((text) => mid.push({ op: '-', text }));
    y.forEach((text) => mid.push({ op: '+', text }));
  } else {
    // lcs[i][j]: common length of x[i..] and y[j..]
    const lcs = Array.from({ length: x.length + 1 }, () => new Uint32Array(y.length + 1));
    for (let i = x.length - 1; i >= 0; i--)
      for (let j = y.length - 1; j >= 0; j--)
        lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    let i = 0;
    let j = 0;
    while (i < x.length || j < y.length) {
      if (i < x.length && j < y.length && x[i] === y[j]) mid.push({ op: ' ', text: x[i++] }), j++;
      else if (i < x.length && (j === y.length || lcs[i + 1][j] >= lcs[i][j + 1])) mid.push({ op: '-', text: x[i++] });
      else mid.push({ op: '+', text: y[j++] });
    }
  }
  return [
    ...a.slice(0, head).map((text) => ({ op: ' ' as const, text })),
    ...mid,
    ...a.slice(a.length - tail).map((text) => ({ op: ' ' as const, text })),
  ];
}
