// Serverless entry points reachable from the internet: Lambda function URLs without authentication
// (AuthType NONE), API Gateway REST APIs and HTTP APIs with methods or routes that need no
// authorisation. A public one carries its URL as proof: the exposure checks ask it without
// credentials (activities/probe/proofs/url.ts).
import type { GetFunctionUrlConfigCommandOutput } from '@aws-sdk/client-lambda';
import type { PublicResource } from '../../../../lib/context';
import { mapConcurrent } from '../../../../lib/concurrency';
import { collectPages } from '../pages';
import { pageWithin, plural, refersTo, tagRecord } from './snapshot-sharing';
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

function serverlessReader(type: string, list: (session: AwsRegionSession) => Promise<Listed[]>): AwsResourceReader {
  const judged = (session: AwsRegionSession, listed: Listed[]) =>
    mapConcurrent(listed, DETAIL_CONCURRENCY, async ({ id, aliases, name, detail }): Promise<PublicResource> => ({
      provider: 'aws',
      class: 'serverless',
      type,
      id,
      aliases,
      ...(name ? { name } : {}),
      account: session.account,
      region: session.region,
      ...(await detail()),
    }));
  return {
    types: [type],
    async collect(session, refs) {
      const wanted = refs.filter((ref) => ref.type === type);
      return judged(session, (await list(session)).filter((item) => refersTo(item, wanted)));
    },
    scan: async (session) => judged(session, await list(session)),
  };
}

/** The SDK's "not found" (a function without a URL answers so). */
const notFound = (err: unknown) => err instanceof Error && (err.name === 'ResourceNotFoundException' || err.name === 'NotFoundException');

/** Lambda functions and their URL (the unqualified function's; an alias's URL is not read). */
export const lambdaFunctionReader = serverlessReader('aws:lambda:function', async (session) => {
  const lambda = await import('@aws-sdk/client-lambda');
  const client = new lambda.LambdaClient(session.clientConfig);
  const size = pageWithin(session.pageSize, 1, 50);
  const functions = await collectPages(lambda.paginateListFunctions({ client, ...(size ? { pageSize: size } : {}) }, {}), (page) => page.Functions);
  return functions.map(
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
        return { public: true, reasons: ['the function URL needs no authentication (AuthType NONE)'], facts, proofs: [{ kind: 'url', url: url.FunctionUrl }], tags: {} };
      },
    }),
  );
});

/** `https://<id>.execute-api.<region>.amazonaws.com`: an API's default endpoint. */
const executeApi = (id: string, region: string) => `https://${id}.execute-api.${region}.amazonaws.com`;

/** REST APIs (API Gateway v1): public when a method of a deployed stage needs no authorisation. */
export const restApiReader = serverlessReader('aws:apigateway:rest-api', async (session) => {
  const gateway = await import('@aws-sdk/client-api-gateway');
  const client = new gateway.APIGatewayClient(session.clientConfig);
  const size = pageWithin(session.pageSize, 1, 500);
  const paging = { client, ...(size ? { pageSize: size } : {}) };
  const apis = await collectPages(gateway.paginateGetRestApis(paging, {}), (page) => page.items);
  return apis.map(
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
  );
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
export const httpApiReader = serverlessReader('aws:apigateway:http-api', async (session) => {
  const gateway = await import('@aws-sdk/client-apigatewayv2');
  const client = new gateway.ApiGatewayV2Client(session.clientConfig);
  const MaxResults = session.pageSize ? String(session.pageSize) : undefined;
  const apis = (await allPages((NextToken) => client.send(new gateway.GetApisCommand({ NextToken, MaxResults })))).filter((api) => api.ProtocolType === 'HTTP');
  return apis.map(
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
  );
});
