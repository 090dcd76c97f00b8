/** One figure in `npm run bench`'s table. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  note?: string;
}
