/** Helpers for tests of users, vhosts and permissions: each test names its own. */
import { call, expectError, seg } from "./api";

export const basic = (user: string, password: string): string =>
  `Basic ${btoa(`${user}:${password}`)}`;

export async function createVhost(name: string): Promise<void> {
  const response = await call("PUT", `/api/vhosts/${seg(name)}`, { body: {} });
  if (response.status !== 201 && response.status !== 204) {
    throw new Error(`create vhost ${name}: ${response.status} ${await response.text()}`);
  }
}

export async function createUser(name: string, password: string, tags = ""): Promise<string> {
  const response = await call("PUT", `/api/users/${seg(name)}`, { body: { password, tags } });
  if (response.status !== 201 && response.status !== 204) {
    throw new Error(`create user ${name}: ${response.status} ${await response.text()}`);
  }
  return basic(name, password);
}

export async function grant(
  vhost: string,
  user: string,
  configure = ".*",
  write = ".*",
  read = ".*",
): Promise<void> {
  const response = await call("PUT", `/api/permissions/${seg(vhost)}/${seg(user)}`, {
    body: { configure, write, read },
  });
  if (response.status !== 201 && response.status !== 204) {
    throw new Error(`grant ${user}@${vhost}: ${response.status} ${await response.text()}`);
  }
}

export async function status(response: Response): Promise<number> {
  await response.body?.cancel();
  return response.status;
}

export { call, expectError, seg };
