from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "tenant_connection" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "scope" VARCHAR(10) NOT NULL /* ACCOUNT: ACCOUNT\nSITE: SITE */,
    "status" VARCHAR(20) NOT NULL /* PENDING: PENDING\nCONNECTED: CONNECTED\nNEEDS_REAUTH: NEEDS_REAUTH\nNEEDS_CONSENT: NEEDS_CONSENT\nDISCONNECTED: DISCONNECTED */,
    "status_message" VARCHAR(500) NOT NULL,
    "entra_tenant_id" VARCHAR(64),
    "tenant_name" VARCHAR(256) NOT NULL,
    "granted_scopes" TEXT NOT NULL,
    "home_account_id" VARCHAR(200),
    "connected_by" VARCHAR(320) NOT NULL,
    "connected_at" TIMESTAMP,
    "token_cache" TEXT,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "account_id" INT NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE,
    "site_id" INT REFERENCES "site" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_tenant_conn_account_db2614" ON "tenant_connection" ("account_id", "status");
CREATE INDEX IF NOT EXISTS "idx_tenant_conn_site_id_ff1074" ON "tenant_connection" ("site_id", "status");
        CREATE TABLE IF NOT EXISTS "sign_in_request" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "account_id" INT NOT NULL,
    "state_hash" VARCHAR(64) NOT NULL UNIQUE,
    "flow" TEXT NOT NULL,
    "expires_at" TIMESTAMP NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "connection_id" INT NOT NULL REFERENCES "tenant_connection" ("id") ON DELETE CASCADE
) /* One started sign-in: single use, short-lived, looked up by the hash of its `state`. */;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "sign_in_request";
        DROP TABLE IF EXISTS "tenant_connection";"""


MODELS_STATE = (
    "eJztXVtzmzgU/isantoZp9NcnHa8T8SmjbcN7sRkt9OmQzCWbRosXBBNPN3895UEmDsBx3"
    "Yw0YsNko4Q3zlI+s6R4I8wt8bQdN6Ium65CAsd8EdA2hySg2RWCwjaYhFm0ASsjUxWVosU"
    "GjnY1nRa10QzHUiSxtDRbWOBDQuRVOSaJk20dFLQQNMwyUXGLxeq2JpCPIM2yfj+gyQbaA"
    "zvoROcLm7ViQHNcayxxphem6WreLlgaX2EP7CC9GojVbdMd47CwoslnlloVdrwmj+FCNoa"
    "hrR6bLu0+bR1/o0Gd+S1NCziNTEiM4YTzTVx5HZHapgmqKo8UNShpKiqUAEg3UIUXNJUh9"
    "39lDbh4Ojw5N3J++PTk/ekCGvmKuXdg3fpEBhPkMEjK8IDy9ew5pVgGIegsv8UrN2ZZmfj"
    "GpRPIEuanEQ2wLEI2iAhxDa0p12AO9fuVROiKZ5RRN++LYDyH/Gyey5eviKlXtNLWuQB8B"
    "4M2c868vIo3vEnLBtfCblzhnGftElDOkxhHcjWGWuhr6g96Yt4qVxIstIBsdNrdDH80gHk"
    "R1hLH6XUUaCNpDJ0G1LAVA2nVdIjOdiYw2yzj0smFDL2Rd8EB/VRT/lHgdzgeIDMpd+/FU"
    "Cv9C+koSJeMKXOHeeXyfATFYnmHLHUZSL11WlCTatKwL995RzQU/BtIEsMXsvBU5tdMSyn"
    "fBNomzQXWyqy7lRtHOmKg9QAtQc6iExuIz0eTRhp+u2dZo/VWE5oHtrCUG/h0kkbx5kv+e"
    "HTJTQ1hm3aDILBdGF8gss9NIGHwOiD1NAUQowgGquuA+0ngiSh8RWppakoOQaGT0RoSKpo"
    "KjwkF0GdVv1EkBSINIS7q+qaBBjtsawjK68PS2fNj+bJFA1pU3ZL9Nr0SvE+KosKrHqvAi"
    "bg9ZOlmIAgghHUbGgDMoSOIcKGZnaARQYaYGAHDM/Fg6P2KTAc4GCLlPgL3CxsODHub8CE"
    "aMQBhCUA27oDdwYxABezcweSyvCb5KRi29fi3IVzl2r9hiDsL3OxLXNt5hLI1pq5iL2Lvt"
    "wB7O8aKVL3XO53+yJJCo/rwVu8XqqKqYcSm1HB8/YjMXgPT0vAe5jkGyG8NCsOLxnL1Jnm"
    "zKoAHJWps5WvCfLpSQmQT09yQaZZnHu/TO4dG0Tgb+t2La3HJTegdb+5dVH6nig5wKRQy3"
    "5oQK00y40LPT7b3YcHeQMT3pTnKgVzGuMPhM0YU0SIW2paluOjCmvaM4jz6DJJtrW7FfNK"
    "WBdBgNw3xN6gLg67Yk8SHvJ9gtvk3oHrK4N8R7xi+ew78MBtPhD3nfmtaL1wrhkm4/g/Eg"
    "z3e9QKI8VaIJ6DSLtUa/QT6kwHPzgz3iUzZoqpMp1dCTRwLntcipAdFzCy4zQlC02/KsqB"
    "EEe6HNITw3awWtXXE5dqnMfnsJTH57DA43OY9viY2hpAx4Q4zmVw/mmNVGzgPPdaNs4xoc"
    "bhvBUP5oJgVAnjlUDj8N28P2dujYxqFhxKcHgfhdexXFtf2/8eSu8Q6gtRvhI/VwTcl+oA"
    "7/8aSbJyKXYA+1vH+35YrsMu6K9TU70El6ky4UuLrqWQmvmutm38HmyYBffXQjwmyhEviz"
    "iby1XnjhmyzcN8K9yG+nE8kCrgHRNqHtCbD58GvkDSKZD7z+hOzizLhBoq9lNHpBOgj4j4"
    "/qFegPLZYPA5Fns46ysJuK8uziQyjjItkEKG51oNPFMJTuksySRlnSBQWpoHguocCOJB3v"
    "xOrrlBXncxXlPrcUmu9bpoPeNhTy3i5UHfTcZy4mvHq4EakeCI8jD6rsPoSePdALAN2/yQ"
    "RDXywNZpZcKQ6KiPLiHB0sncJxwv0CpapeCQoqqBVDtS+NG9AgMEATENmygc0AoODNQhB2"
    "hqQuBSAWdm2fjANH7DcQuYFl0gBtwFGC3ZUn26HhNYE7bY/4bUg+FNeo/Alq7B9wbUawUE"
    "n51saXZCTb7yaum4VOOWpG/eHzsxyaQ7BbAC73MsNyjfiEUlRSRJ+qrE+FEA4qsL8evrGE"
    "f6PJA/BsUjoHc/D86Szu/7hUF40Rr8NS7ZQP66v3yVO6ea76Yo45wK9xpXmwuk5Ph04HFq"
    "rcd2Yj+RBDZ4c3crQQhTxlYvWsiakcEGPZJeRAL9Ehteph7x4LA2JRepc6rFt2E/U+x6C8"
    "sY+bzlJc5beFCtaVrnQbXazFN5CGhXOyn5m8P259VY9VwYtds3Y6VgyyA+WdDmkyB/LXKc"
    "Gm/1DboxgkRd767jbdAN+FiQxnnSLnmSo1t5C31L7OgIhOvMmgSx2x1c0dfA+gfXaNhXpA"
    "6gv8lI7PNs5vBNf10trKR3uK/miyT3+vJHoaIufLEO8A+uUXcgy1JXkXodsDq8RrIk9Ybq"
    "pSReKecdED0L8kjhIXu5b+z0GvX6w0iV0bN1dL35dd+ettQ5dBzS2VeNV8YlG7dlrV3KVd"
    "EucFW0064KvnFn14FiH7CqPriEWOOs+6hd5i1xpFR+d9JOvSduahPM4FhlY3HGGJIfnk9L"
    "NgDxXYfpZ9YcqkUOknxzzxBtXueyHeezR1uI7Y4qveokKdcAe9/BfsAQtTWc/QlZvlOqPn"
    "7etHsfW7cQqbqmzzLG7fyBJCHWhE5s18MID6fl93D7GVjh4bSXqHUeTntJe9RqNmjx+ORe"
    "xSefb4tazex2BzvUokizPWBP/hBSYtNZQ+x4ux/4gbahz4SsD/x4Oa3CD/yEZfiXPvdpSG"
    "kVhB9/Q9vJXJid78SJiNQ57Li2j7hdykfcLvARt1PvGiIPVQWE/eINRHcrb04lV8Qwa170"
    "93Ag57rFApEkdzN0DP4DprHPw0oWuBSMYrdJ0kPSijMvWsFZ1gx1lxsQHv4HLz1TKA=="
)
