import { InvalidRequest } from './errors.js';

/** Parameters of a form-encoded OAuth request, keeping every value so duplicates can be refused. */
export class Params {
  private constructor(private readonly values: Map<string, string[]>) {}

  static readonly MAX_PARAMETERS = 64;

  static empty(): Params {
    return new Params(new Map());
  }

  /** application/x-www-form-urlencoded, bounded in the number of parameters. */
  static parse(body: string): Params {
    const values = new Map<string, string[]>();
    let count = 0;
    for (const [name, value] of new URLSearchParams(body)) {
      if (++count > Params.MAX_PARAMETERS) throw new InvalidRequest('too many parameters');
      const list = values.get(name);
      if (list) list.push(value);
      else values.set(name, [value]);
    }
    return new Params(values);
  }

  /** The value of a parameter; RFC 6749 §3.1: a parameter sent without a value is treated as omitted. */
  get(name: string): string | undefined {
    const value = this.values.get(name)?.[0];
    return value === '' ? undefined : value;
  }

  all(name: string): string[] {
    return (this.values.get(name) ?? []).filter((value) => value !== '');
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** RFC 6749 §3.1/§3.2: request parameters MUST NOT be included more than once; `repeatable` ones may. */
  firstDuplicate(repeatable: ReadonlySet<string>): string | undefined {
    for (const [name, list] of this.values) if (list.length > 1 && !repeatable.has(name)) return name;
    return undefined;
  }

  /** The names of the parameters sent. */
  names(): string[] {
    return [...this.values.keys()];
  }

  /** Every (name, value) pair as sent, duplicates included. */
  entries(): Array<[string, string]> {
    return [...this.values].flatMap(([name, list]) => list.map((value): [string, string] => [name, value]));
  }

  /** Only the named parameters: a grant never sees what it did not ask for (oidc-provider's allowlist). */
  pick(names: ReadonlySet<string>): Params {
    return new Params(new Map([...this.values].filter(([name]) => names.has(name))));
  }
}
