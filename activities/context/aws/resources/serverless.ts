// Serverless entry points reachable from the internet: Lambda function URLs without authentication
// (AuthType NONE), API Gateway REST APIs and HTTP APIs with methods or routes that need no
// authorisation. A public one carries its URL as proof: the exposure checks ask it without
// credentials (activities/probe/proofs/url.ts).
import type { GetFunctionUrlConfigCommandOutput } from '@aws-sdk/client-lambda';
import type { PublicResource } from '../../../../lib/context';
import { mapConcurrent } from '../../../../lib/concurrency';
import { isRefusal, refusalName } from '../errors';
import { collectPages } from '../pages';
import { heldHere, pageWithin, plural, refersTo, tagRecord, withClient } from './reading';
import type { AwsRegionSession, AwsResourceReader } from './types';

/** Per-item reads at once (a function's URL, an API's methods and stages). */
const DETAIL_CONCURRENCY = 4;

/** Stage URLs proved per API: enough to show it answers, not a crawl. */
const MAX_STAGE_PROOFS = 3;

/** One function or API as listed, before its details are read. */
interface Listed {
  id: string;
  aliases: string[];
  name?: string;
  /** Its verdict, reasons, facts and proofs (further calls, made only for the items wanted). */
  detail(): Promise<Pick<PublicResource, 'public' | 'reasons' | 'facts' | 'proofs' | 'tags'>>;
}

/** Lists the functions or APIs and hands them to `judge` while its client is open. */
type Lister = (session: AwsRegionSession, judge: (listed: Listed[]) => Promise<PublicResource[]>) => Promise<PublicResource[]>;

function serverlessReader(type: string, list: Lister): AwsResourceReader {
  const judged = async (session: AwsRegionSession, listed: Listed[]) => {
    const read = await mapConcurrent(listed, DETAIL_CONCURRENCY, async ({ id, aliases, name, detail }): Promise<PublicResource[]> => {
      let details: Awaited<ReturnType<Listed['detail']>>;
      try {
        details = await detail();
      } catch (err) {
        // Deleted between its listing and the read of its details: no longer there to judge.
        if (notFound(err)) return [];
        throw err;
      }
      return [{ provider: 'aws', class: 'serverless', type, id, aliases, ...(name ? { name } : {}), account: session.account, region: session.region, ...details }];
    });
    return read.flat();
  };
  return {
    types: [type],
    async collect(session, refs) {
      const wanted = refs.filter((ref) => ref.type === type && heldHere(ref.id, session));
      if (wanted.length === 0) return [];
      return list(session, (listed) => judged(session, listed.filter((item) => refersTo(item, wanted))));
    },
    scan: (session) => list(session, (listed) => judged(session, listed)),
  };
}

/** The SDK's "not found" (a function without a URL answers so). */
const notFound = (err: unknown) => err instanceof Error && (err.name === 'ResourceNotFoundException' || err.name === 'NotFoundException');

/**
 * Whether a function's resource policy lets everyone call its URL: an Allow of
 * `lambda:InvokeFunctionUrl` (or a wildcard covering it) to `*`, with no condition but the URL's
 * auth type. Any other condition (a source account, an address) is taken as restricting it.
 */
function urlOpenedBy(policy: string | undefined): boolean {
  let statements: unknown[];
  try {
    statements = [(JSON.parse(policy ?? '') as { Statement?: unknown }).Statement].flat();
  } catch {
    return false;
  }
  return statements.some((statement) => {
    if (!statement || typeof statement !== 'object') return false;
    const { Effect, Principal, Action, Condition } = statement as Record<string, unknown>;
    const everyone = Principal === '*' || (typeof Principal === 'object' && Principal !== null && [(Principal as { AWS?: unknown }).AWS].flat().includes('*'));
    const invokes = [Action].flat().some((action) => typeof action === 'string' && ['*', 'lambda:*', 'lambda:invokefunctionurl'].includes(action.toLowerCase()));
    const keys = Object.values((Condition ?? {}) as Record<string, object | null>).flatMap((block) => Object.keys(block ?? {}));
    return Effect === 'Allow' && everyone && invokes && keys.every((key) => key.toLowerCase() === 'lambda:functionurlauthtype');
  });
}

/** Lambda functions and their URL (the unqualified function's; an alias's URL is not read). */
export const lambdaFunctionReader = serverlessReader('aws:lambda:function', async (session, judge) => {
  const lambda = await import('@aws-sdk/client-lambda');
  return withClient(new lambda.LambdaClient(session.clientConfig), async (client) => {
    const size = pageWithin(session.pageSize, 1, 50);
    const functions = await collectPages(lambda.paginateListFunctions({ client, ...(size ? { pageSize: size } : {}) }, {}), (page) => page.Functions);
    return judge(
      functions.map(
        (fn): Listed => ({
          id: fn.FunctionName!,
          aliases: fn.FunctionArn ? [fn.FunctionArn] : [],
          async detail() {
            const facts: Record<string, string> = fn.Runtime ? { runtime: fn.Runtime } : {};
            let url: GetFunctionUrlConfigCommandOutput;
            try {
              url = await client.send(new lambda.GetFunctionUrlConfigCommand({ FunctionName: fn.FunctionName }));
            } catch (err) {
              if (!notFound(err)) throw err;
              return { public: false, reasons: ['no function URL'], facts, proofs: [], tags: {} };
            }
            const origins = url.Cors?.AllowOrigins ?? [];
            Object.assign(facts, { URL: url.FunctionUrl ?? '', 'auth type': url.AuthType ?? '', ...(origins.length > 0 ? { 'CORS origins': origins.join(', ') } : {}) });
            // AWS_IAM needs a signed request; NONE lets anyone invoke (within what the resource policy allows).
            if (url.AuthType !== 'NONE' || !url.FunctionUrl) {
              return { public: false, reasons: [`the function URL requires IAM authentication (AuthType ${url.AuthType ?? 'unknown'})`], facts, proofs: [], tags: {} };
            }
            // NONE skips the signature, not the resource policy: without a statement letting everyone
          // call the URL, AWS answers every request 403 (creating the URL outside the console adds none).
          let policy: string | undefined;
          try {
            policy = (await client.send(new lambda.GetPolicyCommand({ FunctionName: fn.FunctionName }))).Policy;
          } catch (err) {
            if (isRefusal(err)) {
              const reasons = ['the function URL needs no authentication (AuthType NONE)', `its resource policy could not be read (${refusalName(err)})`];
              return { public: true, reasons, facts, proofs: [{ kind: 'url', url: url.FunctionUrl }], tags: {} };
            }
            if (!notFound(err)) throw err;
          }
          if (!urlOpenedBy(policy)) {
            return { public: false, reasons: ['the function URL needs no authentication (AuthType NONE), but its resource policy lets no one call it'], facts, proofs: [], tags: {} };
          }
          return { public: true, reasons: ['the function URL needs no authentication (AuthType NONE)'], facts, proofs: [{ kind: 'url', url: url.FunctionUrl }], tags: {} };
          },
        }),
      ),
    );
  });
});

/** `https://<id>.execute-api.<region>.amazonaws.com`: an API's default endpoint. */
const executeApi = (id: string, region: string) => `https://${id}.execute-api.${region}.amazonaws.com`;

/** REST APIs (API Gateway v1): public when a method of a deployed stage needs no authorisation. */
export const restApiReader = serverlessReader('aws:apigateway:rest-api', async (session, judge) => {
  const gateway = await import('@aws-sdk/client-api-gateway');
  return withClient(new gateway.APIGatewayClient(session.clientConfig), async (client) => {
    const size = pageWithin(session.pageSize, 1, 500);
    const paging = { client, ...(size ? { pageSize: size } : {}) };
    const apis = await collectPages(gateway.paginateGetRestApis(paging, {}), (page) => page.items);
    return judge(
      apis.map(
        (api): Listed => ({
          id: api.id!,
          aliases: [`arn:aws:apigateway:${session.region}::/restapis/${api.id}`],
          ...(api.name ? { name: api.name } : {}),
          async detail() {
            const tags = { ...(api.tags ?? {}) };
            const endpointTypes = api.endpointConfiguration?.types ?? [];
            const facts: Record<string, string> = { endpoint: endpointTypes.join(', ') || 'EDGE' };
            if (endpointTypes.includes('PRIVATE')) return { public: false, reasons: ['private endpoint (reachable only through VPC endpoints)'], facts, proofs: [], tags };
            const [resources, { item: stages = [] }] = await Promise.all([
              collectPages(gateway.paginateGetResources(paging, { restApiId: api.id, embed: ['methods'] }), (page) => page.items),
              client.send(new gateway.GetStagesCommand({ restApiId: api.id })),
            ]);
            // OPTIONS without authorisation is the CORS preflight, which every browser needs open.
            const open = resources.flatMap((resource) =>
              Object.entries(resource.resourceMethods ?? {}).flatMap(([method, detail]) =>
                method !== 'OPTIONS' && detail.authorizationType === 'NONE' && !detail.apiKeyRequired ? [{ method, path: resource.path ?? '/' }] : [],
              ),
            );
            const stageNames = stages.flatMap((stage) => (stage.stageName ? [stage.stageName] : []));
            if (stageNames.length > 0) facts.stages = stageNames.join(', ');
            if (api.policy) facts['resource policy'] = 'yes';
            if (open.length === 0) return { public: false, reasons: ['every method needs authorisation or an API key'], facts, proofs: [], tags };
            const methods = open.map(({ method, path }) => `${method} ${path}`);
            facts['open methods'] = methods.slice(0, 10).join(', ') + (methods.length > 10 ? `, … (${methods.length})` : '');
            if (stageNames.length === 0) return { public: false, reasons: [`${methods[0]} needs no authorisation, but no stage is deployed`], facts, proofs: [], tags };
            const reasons = [`${plural(open.length, 'method')} need${open.length === 1 ? 's' : ''} no authorisation (${methods.slice(0, 3).join(', ')})`];
            if (api.disableExecuteApiEndpoint) return { public: true, reasons: [...reasons, 'the default endpoint is disabled: reachable through its custom domains'], facts, proofs: [], tags };
            // A path without parameters, GET if there is one: API Gateway answers 403 for a path it has no method for.
            const target = open.find((m) => m.method === 'GET' && !m.path.includes('{')) ?? open.find((m) => !m.path.includes('{'));
            const path = target ? target.path.replace(/^\//, '') : '';
            const proofs = stageNames.slice(0, MAX_STAGE_PROOFS).map((stage) => ({ kind: 'url' as const, url: `${executeApi(api.id!, session.region)}/${encodeURIComponent(stage)}/${path}` }));
            return { public: true, reasons, facts, proofs, tags };
          },
        }),
      ),
    );
  });
});

/** Pages of API Gateway v2 listings (its SDK has no paginators for them). */
async function allPages<Item>(read: (NextToken: string | undefined) => Promise<{ Items?: Item[]; NextToken?: string }>): Promise<Item[]> {
  const items: Item[] = [];
  let token: string | undefined;
  do {
    const page = await read(token);
    items.push(...(page.Items ?? []));
    token = page.NextToken;
  } while (token);
  return items;
}

/** HTTP APIs (API Gateway v2): public when a route needs no authorisation. WebSocket APIs are left out. */
export const httpApiReader = serverlessReader('aws:apigateway:http-api', async (session, judge) => {
  const gateway = await import('@aws-sdk/client-apigatewayv2');
  return withClient(new gateway.ApiGatewayV2Client(session.clientConfig), async (client) => {
    const MaxResults = session.pageSize ? String(session.pageSize) : undefined;
    const apis = (await allPages((NextToken) => client.send(new gateway.GetApisCommand({ NextToken, MaxResults })))).filter((api) => api.ProtocolType === 'HTTP');
    return judge(
      apis.map(
        (api): Listed => ({
          id: api.ApiId!,
          aliases: [`arn:aws:apigateway:${session.region}::/apis/${api.ApiId}`],
          ...(api.Name ? { name: api.Name } : {}),
          async detail() {
            const tags = tagRecord(Object.entries(api.Tags ?? {}).map(([Key, Value]) => ({ Key, Value })));
            const endpoint = api.ApiEndpoint ?? executeApi(api.ApiId!, session.region);
            const [routes, stages] = await Promise.all([
              allPages((NextToken) => client.send(new gateway.GetRoutesCommand({ ApiId: api.ApiId, NextToken, MaxResults }))),
              allPages((NextToken) => client.send(new gateway.GetStagesCommand({ ApiId: api.ApiId, NextToken, MaxResults }))),
            ]);
            const facts: Record<string, string> = { endpoint };
            const stageNames = stages.flatMap((stage) => (stage.StageName ? [stage.StageName] : []));
            if (stageNames.length > 0) facts.stages = stageNames.join(', ');
            const open = routes.filter((route) => (route.AuthorizationType ?? 'NONE') === 'NONE' && !route.ApiKeyRequired && !route.RouteKey?.startsWith('OPTIONS ')).map((route) => route.RouteKey ?? '');
            if (open.length === 0) return { public: false, reasons: ['every route needs authorisation'], facts, proofs: [], tags };
            facts['open routes'] = open.slice(0, 10).join(', ') + (open.length > 10 ? `, … (${open.length})` : '');
            if (stageNames.length === 0) return { public: false, reasons: [`${open[0]} needs no authorisation, but no stage is deployed`], facts, proofs: [], tags };
            const reasons = [`${plural(open.length, 'route')} need${open.length === 1 ? 's' : ''} no authorisation (${open.slice(0, 3).join(', ')})`];
            if (api.DisableExecuteApiEndpoint) return { public: true, reasons: [...reasons, 'the default endpoint is disabled: reachable through its custom domains'], facts, proofs: [], tags };
            // `$default` is served at the root; any other stage under its name.
            const proofs = stageNames.slice(0, MAX_STAGE_PROOFS).map((stage) => ({ kind: 'url' as const, url: stage === '$default' ? `${endpoint}/` : `${endpoint}/${encodeURIComponent(stage)}/` }));
            return { public: true, reasons, facts, proofs, tags };
          },
        }),
      ),
    );
  });
});
