/** "1 resource", "100,000 resources": a count as a message to a person says it. */
export function counted(n: number, unit: string): string {
  return `${n.toLocaleString('en-US')} ${unit}${n === 1 ? '' : 's'}`;
}
