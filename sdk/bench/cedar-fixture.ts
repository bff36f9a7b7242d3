/**
 * The support atlas's decisions written as Cedar, for a same-run baseline against an established policy engine:
 * reads and ticket work permitted, customer deletion forbidden, everything else denied by default (as the atlas's
 * default deny). Policies and schema are preparsed once (Cedar's thread-local cache); entities are a constant list.
 * `decide` answers Cedar's decision for the bench agent and an action id, through `statefulIsAuthorized` of the
 * package's Node.js entry. Used by the bench (`cedar.ts`) and by `bench.test.ts`, which checks that both engines
 * agree, so the comparison cannot drift into timing two different questions.
 */

import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

export const CEDAR_POLICIES = `
permit (principal, action in [Action::"ticket.lookup", Action::"customer.lookup"], resource);
permit (principal, action in [Action::"ticket.reply", Action::"ticket.close"], resource);
forbid (principal, action == Action::"customer.delete", resource);
`;

export const CEDAR_SCHEMA = `
entity Agent;
entity Session;
action "ticket.lookup", "customer.lookup", "ticket.reply", "ticket.close", "refund.issue", "customer.delete"
  appliesTo { principal: Agent, resource: Session };
`;

const PSET = 'cra-bench-support';
const SCHEMA = 'cra-bench-support';

export interface CedarDecider {
  /** Cedar's decision for agent `bench` on session `s-1`. */
  decide(actionId: string): 'allow' | 'deny';
  /** The call object for `actionId`, built once so that a timed loop measures Cedar only. */
  call(actionId: string): cedar.StatefulAuthorizationCall;
  statefulIsAuthorized: typeof cedar.statefulIsAuthorized;
  version: string;
}

/** Preparses the policies and the schema; throws if Cedar refuses them. */
export function cedarDecider(): CedarDecider {
  for (const r of [cedar.preparsePolicySet(PSET, { staticPolicies: CEDAR_POLICIES }), cedar.preparseSchema(SCHEMA, CEDAR_SCHEMA)]) {
    if (r.type !== 'success') throw new Error(`cedar: ${JSON.stringify(r.errors)}`);
  }
  const entities: cedar.Entities = [
    { uid: { type: 'Agent', id: 'bench' }, attrs: {}, parents: [] },
    { uid: { type: 'Session', id: 's-1' }, attrs: {}, parents: [] },
  ];
  const call = (actionId: string): cedar.StatefulAuthorizationCall => ({
    principal: { type: 'Agent', id: 'bench' },
    action: { type: 'Action', id: actionId },
    resource: { type: 'Session', id: 's-1' },
    context: {},
    preparsedPolicySetId: PSET,
    preparsedSchemaName: SCHEMA,
    validateRequest: true,
    entities,
  });
  return {
    call,
    decide(actionId) {
      const a = cedar.statefulIsAuthorized(call(actionId));
      if (a.type !== 'success') throw new Error(`cedar: ${JSON.stringify(a.errors)}`);
      return a.response.decision;
    },
    statefulIsAuthorized: cedar.statefulIsAuthorized,
    version: cedar.getCedarVersion(),
  };
}
