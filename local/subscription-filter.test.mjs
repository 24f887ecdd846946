// AppSync's enhanced subscription filters as the local endpoint applies them: the
// util.transform.toSubscriptionFilter conversion (checked against AWS's documented example),
// every operator, OR of groups / AND within a group, and the limits AppSync enforces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterError, LIMITS, matches, toSubscriptionFilter, validateFilter } from './subscription-filter.mjs';

const rule = (fieldName, operator, value) => ({ fieldName, operator, value });

test('toSubscriptionFilter: the util.transform reference example (ANDed keys, nested and/or, ORed conditions on one field)', () => {
  const input = {
    percentageUp: { lte: 50, gte: 20 },
    and: [{ title: { ne: 'Book1' } }, { downvotes: { gt: 2000 } }],
    or: [{ author: { eq: 'Admin' } }, { isPublished: { eq: false } }],
  };
  const common = [rule('title', 'ne', 'Book1'), rule('downvotes', 'gt', 2000)];
  assert.deepEqual(toSubscriptionFilter(input), {
    filterGroup: [
      { filters: [rule('percentageUp', 'lte', 50), ...common, rule('author', 'eq', 'Admin')] },
      { filters: [rule('percentageUp', 'lte', 50), ...common, rule('isPublished', 'eq', false)] },
      { filters: [rule('percentageUp', 'gte', 20), ...common, rule('author', 'eq', 'Admin')] },
      { filters: [rule('percentageUp', 'gte', 20), ...common, rule('isPublished', 'eq', false)] },
    ],
  });
  // Ignored fields are dropped at every level; strict rules are alternatives added to each group.
  const ignored = toSubscriptionFilter(input, ['percentageUp', 'author'], { upvotes: { gte: 250 }, author: { eq: 'Person1' } });
  assert.deepEqual(ignored, {
    filterGroup: [
      { filters: [...common, rule('isPublished', 'eq', false), rule('upvotes', 'gte', 250)] },
      { filters: [...common, rule('isPublished', 'eq', false), rule('author', 'eq', 'Person1')] },
    ],
  });
});

test('groups are ORed, the filters of a group ANDed', () => {
  const f = toSubscriptionFilter({ or: [{ a: { eq: 1 }, b: { eq: 2 } }, { c: { eq: 3 } }] });
  assert.equal(matches(f, { a: 1, b: 2, c: 0 }), true);
  assert.equal(matches(f, { a: 1, b: 0, c: 0 }), false);
  assert.equal(matches(f, { a: 0, b: 0, c: 3 }), true);
});

test('every operator', () => {
  const data = { s: 'hello', n: 5, b: true, list: ['x', 'y'], nested: { deeper: { v: 'ok' } }, nul: null };
  const cases = [
    ['s', 'eq', 'hello', true], ['s', 'eq', 'Hello', false], ['n', 'eq', '5', false], ['b', 'eq', true, true],
    ['s', 'ne', 'x', true], ['missing', 'ne', 'x', true], ['missing', 'eq', 'x', false], ['nul', 'eq', null, true],
    ['n', 'le', 5, true], ['n', 'lt', 5, false], ['n', 'ge', 5, true], ['n', 'gt', 4, true], ['s', 'gt', 'hellm', true],
    ['n', 'gt', '4', false],
    ['s', 'contains', 'ell', true], ['list', 'contains', 'y', true], ['list', 'contains', 'z', false],
    ['s', 'notContains', 'z', true], ['list', 'notContains', 'x', false],
    ['s', 'beginsWith', 'he', true], ['s', 'beginsWith', 'lo', false],
    ['n', 'in', [1, 5], true], ['n', 'in', [1, 2], false], ['n', 'notIn', [1, 2], true], ['missing', 'in', ['a'], false],
    ['n', 'between', [5, 6], true], ['n', 'between', [6, 7], false],
    ['list', 'containsAny', ['q', 'y'], true], ['list', 'containsAny', ['q'], false],
    ['nested.deeper.v', 'eq', 'ok', true], ['nested.deeper.v', 'eq', 'no', false],
  ];
  for (const [field, op, value, expected] of cases) {
    assert.equal(matches({ filterGroup: [{ filters: [rule(field, op, value)] }] }, data), expected, `${field} ${op} ${JSON.stringify(value)}`);
  }
  // Nesting past five levels is not filterable: AppSync ignores such a filter.
  assert.equal(matches({ filterGroup: [{ filters: [rule('a.b.c.d.e.f', 'eq', 'x')] }] }, {}), true);
});

test("AppSync's limits: groups, filters a group, distinct fields, list sizes", () => {
  const eq = (f) => rule(f, 'eq', 1);
  const groups = (n) => ({ filterGroup: Array.from({ length: n }, () => ({ filters: [eq('a')] })) });
  assert.doesNotThrow(() => validateFilter(groups(LIMITS.groups)));
  assert.throws(() => validateFilter(groups(LIMITS.groups + 1)), /combination exceed maximum limit/);
  assert.throws(() => validateFilter({ filterGroup: [{ filters: ['a', 'b', 'c', 'd', 'e', 'f'].map(eq) }] }), /at most 5 filters/);
  assert.throws(
    () => validateFilter({ filterGroup: [{ filters: ['a', 'b', 'c'].map(eq) }, { filters: ['d', 'e', 'f'].map(eq) }] }),
    /Filters exceed maximum attributes limit 5/,
  );
  assert.throws(() => validateFilter({ filterGroup: [{ filters: [rule('a', 'in', [1, 2, 3, 4, 5, 6])] }] }), /at most 5 values/);
  assert.throws(() => validateFilter({ filterGroup: [{ filters: [rule('a', 'containsAny', Array(21).fill(1))] }] }), /at most 20/);
  assert.throws(() => validateFilter({ filterGroup: [{ filters: [rule('a', 'regex', 'x')] }] }), FilterError);
  assert.throws(() => validateFilter({ filterGroup: [{ filters: [rule('a'.repeat(257), 'eq', 1)] }] }), /256/);
  assert.throws(() => validateFilter({ filters: [] }), /filterGroup/);
});
