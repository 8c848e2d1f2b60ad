// The condition: search identifiers joined by `and`, `or`, `not` and parentheses, and the
// quantifiers `1 of x*`, `any of x*`, `all of x*` and `… of them`. Precedence, loosest first:
// or, and, not, `x of`, parentheses. `them` and patterns leave out identifiers starting with `_`
// (unless the pattern itself starts with `_`). The Sigma 1.0 aggregations (`| count() by x > 5`)
// and `near` were replaced by correlation rules and are not supported.
import type { Matcher } from './item';
import { Unsupported } from './unsupported';

export type Condition =
  | { type: 'and' | 'or'; args: Condition[] }
  | { type: 'not'; arg: Condition }
  | { type: 'identifier'; name: string }
  | { type: 'of'; quantifier: 'any' | 'all'; pattern: string };

const keywords = new Set(['and', 'or', 'not', 'of']);
const word = /^[A-Za-z0-9_*-]+$/;

function tokenize(text: string): string[] {
  if (text.includes('|')) throw new Unsupported(`condition '${text}' has an aggregation ('|'), which Sigma replaced by correlation rules; Vigil matches single events`);
  const tokens = text.match(/[()]|[^\s()]+/g) ?? [];
  for (const token of tokens) {
    if (token === 'near') throw new Unsupported(`condition '${text}' uses 'near', which Sigma replaced by correlation rules; Vigil matches single events`);
    if (token !== '(' && token !== ')' && !word.test(token)) throw new Unsupported(`condition '${text}' has '${token}', which is not a search identifier or operator`);
  }
  return tokens;
}

/** Recursive descent, one function per precedence level. */
export function parseCondition(text: string): Condition {
  const tokens = tokenize(text);
  let at = 0;
  const fail = (expected: string): never => {
    const found = tokens[at];
    throw new Unsupported(`condition '${text}': expected ${expected} ${found === undefined ? 'at the end' : `at '${found}'`}`);
  };
  const take = (token: string) => {
    if (tokens[at] !== token) return false;
    at++;
    return true;
  };

  const binary = (type: 'and' | 'or', operand: () => Condition) => (): Condition => {
    const args = [operand()];
    while (take(type)) args.push(operand());
    return args.length === 1 ? (args[0] as Condition) : { type, args };
  };
  const primary = (): Condition => {
    const token = tokens[at];
    if (token === '(') {
      at++;
      const inner = or();
      if (!take(')')) fail("')'");
      return inner;
    }
    if ((token === '1' || token === 'any' || token === 'all') && tokens[at + 1] === 'of') {
      at += 2;
      const pattern = tokens[at];
      if (pattern === undefined || pattern === '(' || pattern === ')' || keywords.has(pattern)) return fail("a search identifier pattern or 'them'");
      at++;
      return { type: 'of', quantifier: token === 'all' ? 'all' : 'any', pattern };
    }
    if (token === undefined || token === ')' || keywords.has(token) || token.includes('*')) return fail('a search identifier');
    at++;
    return { type: 'identifier', name: token };
  };
  const not = (): Condition => (take('not') ? { type: 'not', arg: not() } : primary());
  const and = binary('and', not);
  const or = binary('or', and);

  const condition = or();
  if (at < tokens.length) fail("'and', 'or' or the end");
  return condition;
}

/** The identifiers `x of <pattern>` stands for, in the order the detection defines them. */
function identifiersMatching(pattern: string, identifiers: readonly string[]): string[] {
  const them = pattern === 'them';
  // Patterns are made of word characters and `*` (the tokenizer saw to it): nothing else to escape.
  const shape = new RegExp(`^${pattern.split('*').join('.*')}$`);
  return identifiers.filter((name) => (them || shape.test(name)) && (!name.startsWith('_') || (!them && pattern.startsWith('_'))));
}

export function compileCondition(condition: Condition, searches: ReadonlyMap<string, Matcher>): Matcher {
  switch (condition.type) {
    case 'identifier': {
      const search = searches.get(condition.name);
      if (!search) throw new Unsupported(`condition names '${condition.name}', which the detection does not define`);
      return search;
    }
    case 'not': {
      const arg = compileCondition(condition.arg, searches);
      return (event) => !arg(event);
    }
    case 'and':
    case 'or': {
      const args = condition.args.map((arg) => compileCondition(arg, searches));
      return condition.type === 'and' ? (event) => args.every((arg) => arg(event)) : (event) => args.some((arg) => arg(event));
    }
    case 'of': {
      const names = identifiersMatching(condition.pattern, [...searches.keys()]);
      if (names.length === 0) throw new Unsupported(`condition 'of ${condition.pattern}' matches no search identifier`);
      const args = names.map((name) => searches.get(name) as Matcher);
      return condition.quantifier === 'all' ? (event) => args.every((arg) => arg(event)) : (event) => args.some((arg) => arg(event));
    }
  }
}
