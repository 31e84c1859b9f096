// Name → definition. The mapped type makes the compiler check each kind against its name.
import type { ServerName } from './connections.ts';
import type { ServerDefinition } from './definition.ts';
import { consul } from './kinds/consul.ts';
import { eureka } from './kinds/eureka.ts';
import { kubernetes } from './kinds/kubernetes.ts';
import { nacos } from './kinds/nacos.ts';
import { zookeeper } from './kinds/zookeeper.ts';

export const definitions: { readonly [N in ServerName]: ServerDefinition<N> } = { kubernetes, consul, nacos, zookeeper, eureka };
