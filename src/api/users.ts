/**
 * /api/users and /api/whoami. Only administrators manage users. A password is hashed here, in
 * the Worker (PBKDF2, src/access/passwords.ts), and only the hash reaches the registry; no answer
 * ever carries a password or a hash (the definitions export is the one exception, with hashes
 * only, as RabbitMQ's).
 */
import type { Hono } from "hono";
import { z } from "zod";
import {
  checkPasswordHash,
  HASHING_ALGORITHMS,
  hashPassword,
  NATIVE_ALGORITHM,
  RABBIT_SHA256,
} from "../access/passwords";
import { parseTags } from "../access/tags";
import { BrokerError, unwrap } from "../errors";
import { forgetAccess } from "../gateway/access-cache";
import { registryStub } from "../gateway/stubs";
import type { UserRecord } from "../protocol/registry-records";
import { parseBody } from "./body";
import type { AppContext, AppEnv } from "./context";
import { authorize } from "./guards";
import { listAnswer } from "./pagination";
import { userParam } from "./params";
import { resource } from "./routes";

const MAX_PASSWORD_LENGTH = 1024;

const userBodySchema = z.object({
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH).optional(),
  password_hash: z.string().max(1024).optional(),
  hashing_algorithm: z.string().max(255).optional(),
  tags: z.union([z.string(), z.array(z.string())]).default([]),
});

/** A user as the API shows it: never its password hash. */
export function presentUser(user: UserRecord): Record<string, unknown> {
  return { name: user.name, tags: user.tags, limits: user.limits };
}

async function findUser(c: AppContext, name: string): Promise<UserRecord> {
  const { users } = unwrap(await registryStub(c.env).listUsers());
  const user = users.find((u) => u.name === name);
  if (!user) throw new BrokerError("not_found", "Not Found");
  return user;
}

export function userRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/whoami", {
    GET: (c) => {
      const principal = c.get("principal");
      return c.json({ name: principal.name, tags: principal.tags });
    },
  });

  resource(app, "/api/users", {
    GET: async (c) => {
      authorize(c);
      const { users } = unwrap(await registryStub(c.env).listUsers());
      return c.json(listAnswer(c, users.map(presentUser)));
    },
  });

  resource(
    app,
    "/api/users/:user",
    {
      GET: async (c) => {
        authorize(c);
        return c.json(presentUser(await findUser(c, userParam(c))));
      },
      PUT: async (c) => {
        authorize(c);
        const name = userParam(c);
        const body = await parseBody(c, userBodySchema);
        const tags = parseTags(body.tags);
        if (!Array.isArray(tags)) throw BrokerError.from(tags);
        if (body.password !== undefined && body.password_hash !== undefined) {
          throw new BrokerError("bad_request", "set either password or password_hash, not both");
        }
        let credential: { password_hash: string; hashing_algorithm: string } | null = null;
        if (body.password !== undefined) {
          credential = {
            password_hash: await hashPassword(body.password),
            hashing_algorithm: NATIVE_ALGORITHM,
          };
        } else if (body.password_hash !== undefined) {
          // RabbitMQ's default algorithm when none is named.
          const algorithm = body.hashing_algorithm ?? RABBIT_SHA256;
          const invalid = checkPasswordHash(body.password_hash, algorithm);
          if (invalid) throw BrokerError.from(invalid);
          credential = { password_hash: body.password_hash, hashing_algorithm: algorithm };
        } else if (body.hashing_algorithm !== undefined) {
          if (!(HASHING_ALGORITHMS as readonly string[]).includes(body.hashing_algorithm)) {
            throw new BrokerError(
              "bad_request",
              `unsupported hashing_algorithm '${body.hashing_algorithm}'`,
            );
          }
        }
        const record: UserRecord = {
          name,
          password_hash: credential?.password_hash ?? "",
          hashing_algorithm: credential?.hashing_algorithm ?? NATIVE_ALGORITHM,
          tags,
          limits: {},
        };
        const { created } = unwrap(await registryStub(c.env).putUser(record, credential === null));
        forgetAccess();
        return c.body(null, created ? 201 : 204);
      },
      DELETE: async (c) => {
        authorize(c);
        unwrap(await registryStub(c.env).deleteUser(userParam(c)));
        forgetAccess();
        return c.body(null, 204);
      },
    },
    { PUT: { summary: "Create or update a user", body: userBodySchema } },
  );
}
