from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "account" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(200) NOT NULL,
    "mode" VARCHAR(20) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);
COMMENT ON COLUMN "account"."mode" IS 'IT_DEPARTMENT: IT_DEPARTMENT\nMSP: MSP';
CREATE TABLE IF NOT EXISTS "api_key" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(200) NOT NULL,
    "role" VARCHAR(20) NOT NULL,
    "prefix" VARCHAR(16) NOT NULL UNIQUE,
    "key_hash" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "revoked_at" TIMESTAMPTZ,
    "account_id" INT NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE
);
COMMENT ON COLUMN "api_key"."role" IS 'ADMIN: ADMIN\nTECHNICIAN: TECHNICIAN';
COMMENT ON TABLE "api_key" IS 'A bearer credential: only its SHA-256 is stored; `prefix` finds the row without the secret.';
CREATE TABLE IF NOT EXISTS "site" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(200) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "account_id" INT NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_site_account_9d3d3d" UNIQUE ("account_id", "name")
);
CREATE TABLE IF NOT EXISTS "end_user" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "email" VARCHAR(320) NOT NULL,
    "email_key" VARCHAR(320) NOT NULL,
    "first_name" VARCHAR(100) NOT NULL,
    "last_name" VARCHAR(100) NOT NULL,
    "job_title" VARCHAR(200) NOT NULL,
    "phone" VARCHAR(64) NOT NULL,
    "mobile" VARCHAR(64) NOT NULL,
    "source" VARCHAR(10) NOT NULL,
    "entra_object_id" VARCHAR(64),
    "entra_tenant_id" VARCHAR(64),
    "entra_last_email" VARCHAR(320),
    "user_type" VARCHAR(20),
    "account_enabled" BOOL,
    "last_synced_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "account_id" INT NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE,
    "site_id" INT NOT NULL REFERENCES "site" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_end_user_site_id_7eec4f" UNIQUE ("site_id", "email_key")
);
CREATE INDEX IF NOT EXISTS "idx_end_user_account_3a800e" ON "end_user" ("account_id", "email_key");
CREATE INDEX IF NOT EXISTS "idx_end_user_account_5c6a26" ON "end_user" ("account_id", "entra_object_id");
COMMENT ON COLUMN "end_user"."source" IS 'MANUAL: MANUAL\nENTRA: ENTRA';
CREATE TABLE IF NOT EXISTS "aerich" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "version" VARCHAR(255) NOT NULL,
    "app" VARCHAR(100) NOT NULL,
    "content" JSONB NOT NULL
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        """


MODELS_STATE = (
    "eJztnFtz2jgUgP+Kxk/ZmbZTyKUd9skQMmEboBOc3Z0mGVfYAtQYidpyE6bLf19Jxvju2B"
    "QSoH4J+EjHlr+jyzlHIj+VKTWR5bxTDYO6hCkN8FMhcIr4l3jRG6DA2SwoEAIGh5asC0OV"
    "hg6zoSHuNYKWg7jIRI5h4xnDlHApcS1LCKnBK2IyDkQuwd9dpDM6RmyCbF5we8/FmJjoCT"
    "n+5exBH2FkmZHGYlM8W8p1Np9JWYewC1lRPG2oG9RypySoPJuzCSWr2thr/hgRZEOGxO2Z"
    "7Yrmi9YtX9R/I6+lQRWviSEdE42ga7HQ6w71QKboeq+v6YO2putKCUAGJQIub6oj334smv"
    "C2Xjv5cPLx+OzkI68im7mSfFh4jw7AeIoST09TFrIcMujVkIwDqPIzgbU1gXY6V79+jCxv"
    "cpyszzEPrS8I2Ab96SXgTuGTbiEyZhNB9P37HJR/q9etS/X6iNf6QzyS8gHgDYzesqjulQ"
    "ne0RGWzrdN3Klk3OFtgsRACda+7i6zVjqaft7+rF5r3XZPa4DI5R3pDj43AP+jrGWPQubI"
    "sUbcGIaNBDAdsqRJznkJw1OU3u2jmjGDmEvVd/6X3TFP8aHAX9DsE2u+nN9y0GudbnugqV"
    "1p1KnjfLckP1Vri5K6lM5j0qOzmJlWNwH/dLRLIC7Bl36vLfFSh41t+cSgnvZFEW2CLqM6"
    "oY86NENTsS/1qS3EIjJ6CM14QjCExsMjtE09UhJ0DzjD+gOaO8nO0VxqXny6RhaUbJPdwF"
    "9MZ/gTmu9hF1j4nd6XBl0hYISIqbsOsn8RUpuYN/wuh0rJwQz9IqEBv8Uh4REDkNZp1pBM"
    "Fk3r07gEEjiWrySeLZ4UHXJpnu1qMOY4tt6wL+TYKioYImgjG/AVwUSEYWg1AOXzJsDMAY"
    "NL9W399AxgBziM8hp/gq8zG43w01cw4hZxAHd6gU0fwSPmRneZvHYQvxl7F18jt/2syhWv"
    "XPFy84ai7K8jblNrbUfc191pR1w973Z6DSA/7ojWbl32Oq2OykXB991ww71ZqkxXDzQ2Y4"
    "LXnUcieGtnBfDW4u5zgFcURfHytUyfQGdSBnBYZ5d7+ZqQz04KQD47yYQsiqpQ8vcMJSOL"
    "CPpBH9ayelRzA1ZfNndXjL4nRvaZ5Fp5menWS3m5UaXnvd19GMgbcHgTiZgE5iTjCx7N4D"
    "HhgVvCLctIuQR32jPEWeEyF9vwcRV5xXoXJ8DfGzFvUVcHLfW8rSyyU1zbjL39TE5K8B1K"
    "8mRH335CafP7SrcyDSPui6YQWzLGv49FuLfhXhiq9gZESwhvl06H35AhbXBfRcYvGRlLw5"
    "RxZ1cKB+jLHhcKyI5zIrLjZEgWdP2ylH2linQx0iNsO0wvm+uJah1cxqdWKONTy8n41JIZ"
    "HwuuATqiVHEuwvkbHeoMs6z0WjrniNLBcd5KBnPGGZVivFI4OL6bz+dM6RCX68GBRoX3Wb"
    "wOdW1j7fx7oP2CqLtq70a9Kgl8qdUA3ucdafe0a7UB5Mc62fdasQk7Z75OuHqxWKaMw5dU"
    "XcsgO5a72nbn97AxRGBGUuk54hHVinhR4tKXKx87pugeHvOtxDYij+NBKsE7onR4oDe/fe"
    "rnAvmkwN8/ZTppUmohSPLz1CHtGPQhV98/6jmUm/3+VWTvodnRYrhvus02X0elFXgl7KVW"
    "/cxULKZ05txJWWcTKKldbQTt8kZQtcmbPckd7iavOzPXtHpUs7L6rlg9ZbAnjuxWm76b3M"
    "uJHoUuBzWkURGtttFfehs93nk3APbAzvLHqYYG7C6dTBh4XnziWIJvjewzCb7ZN30eITRU"
    "ZZvipxGqUwXVeftXSlJsYb+qip6y6e+nH11FT7+j1avoqfL1dwjxyxyZrX7x/Mo/6UU2Ni"
    "ZK2k96vZJcBx4Gdap/VbNPc1+ev/6Dj8HlECvqsodUDtFrPz0t4rWfnmZ77aIstrvIB1UJ"
    "wsvqB0h3K2cl+RMZSlvA/xr0exnBUKAS94mxwcB/wMLOHq/jaXAFjIjj6zM96qr/xnG3rv"
    "rNuEcrbtBMc6VeMhO1+B+He8h+"
)
