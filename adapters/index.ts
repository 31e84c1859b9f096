import type { AdapterKind } from '../bridge/ports/index.ts';
import { consulAdapter } from './consul/index.ts';
import { dubboAdapter } from './dubbo/index.ts';
import { eurekaAdapter } from './eureka/index.ts';
import { kubernetesAdapter } from './kubernetes/index.ts';
import { memoryAdapter } from './memory/index.ts';
import { nacosAdapter } from './nacos/index.ts';

/** Every registry kind Isthmus speaks. Adding a registry = its folder plus one line here. */
export const ADAPTER_KINDS: Readonly<Record<string, AdapterKind>> = {
  memory: memoryAdapter,
  kubernetes: kubernetesAdapter,
  consul: consulAdapter,
  dubbo: dubboAdapter,
  nacos: nacosAdapter,
  eureka: eurekaAdapter,
};
