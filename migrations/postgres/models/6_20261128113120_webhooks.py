from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "webhook" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "url" VARCHAR(2048) NOT NULL,
    "description" VARCHAR(500) NOT NULL,
    "events" JSONB NOT NULL,
    "enabled" BOOL NOT NULL,
    "signing_secret" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "account_id" INT NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_webhook_account_ba0711" ON "webhook" ("account_id", "enabled");
        CREATE TABLE IF NOT EXISTS "webhook_delivery" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "account_id" INT NOT NULL,
    "event" VARCHAR(32) NOT NULL,
    "delivery_id" UUID NOT NULL UNIQUE,
    "body" TEXT NOT NULL,
    "status" VARCHAR(10) NOT NULL,
    "attempts" INT NOT NULL,
    "last_status_code" INT,
    "last_error" VARCHAR(500) NOT NULL,
    "next_attempt_at" TIMESTAMPTZ,
    "claim_token" VARCHAR(32),
    "created_at" TIMESTAMPTZ NOT NULL,
    "delivered_at" TIMESTAMPTZ,
    "webhook_id" INT NOT NULL REFERENCES "webhook" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_webhook_del_status_5b6f00" ON "webhook_delivery" ("status", "next_attempt_at");
CREATE INDEX IF NOT EXISTS "idx_webhook_del_webhook_6a1bba" ON "webhook_delivery" ("webhook_id", "id");
CREATE INDEX IF NOT EXISTS "idx_webhook_del_status_0f890a" ON "webhook_delivery" ("status", "created_at");
COMMENT ON COLUMN "webhook_delivery"."event" IS 'RUN_SUCCEEDED: RUN_SUCCEEDED\nRUN_FAILED: RUN_FAILED\nCONNECTION_NEEDS_ATTENTION: CONNECTION_NEEDS_ATTENTION\nREVIEW_QUEUE_WAITING: REVIEW_QUEUE_WAITING\nMASS_CHANGE_GUARD_TRIPPED: MASS_CHANGE_GUARD_TRIPPED\nPING: PING';
COMMENT ON COLUMN "webhook_delivery"."status" IS 'PENDING: PENDING\nDELIVERED: DELIVERED\nFAILED: FAILED';
COMMENT ON TABLE "webhook_delivery" IS 'One event for one webhook: persisted before it is sent, so a restart resumes it.';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "webhook_delivery";
        DROP TABLE IF EXISTS "webhook";"""


MODELS_STATE = (
    "eJztXWtzo7Ya/isavpzdmWwm96Q+nc44NpuldXDqy25P6w6LbdmmwcLlkmym3f9+JAHmTo"
    "AYgom+2FjSK/DzCknvVf9wa20OVeOwPZtpFjK5FviHQ/Ia4otw1QHg5M3GqyAFpjxVaVvZ"
    "12hqmLo8I30tZNWAuGgOjZmubExFQ7gUWapKCrUZbqigpVdkIeVvC0qmtoTmCuq44o8/cb"
    "GC5vAbNNyfm3tpoUB1HnhYZU7uTcsl82lDywRkfqQNyd2m0kxTrTXyGm+ezJWGtq0V+/GX"
    "EEFdNiHp3tQt8vjk6Zw/6v4j+0m9JvYj+mjmcCFbqun7u1PJK+MkSeyPpCE/kiQuB0AzDR"
    "Fw8aMa9N8vySN8ODk+uzy7Or04u8JN6GNuSy6/27f2gLEJKTziiPtO62VTtltQjD1Q6XcE"
    "1s5K1uNxdduHkMWPHEbWxTENWrfAw9YbT1WAu5a/SSpES3NFED06SoHyc3vQ+dQevMOt3p"
    "NbavgFsF8M0ak6sesI3sE3LB5fHllrirGAn0lGMxjB2qWtM9acMJK6/F17MLrlxVELBH5O"
    "0O3wrgXwB1eIH5nYkcKNMDNmOiSASbIZZUkX15jKGsYP+yBliCFzh/TQvagPe7K/CvgPzv"
    "tIfXLmtxToR8ItPxy1bylT14bxt0rxa494UnNCS59Cpe8uQmzadgK+CKNPgPwEv/dFnsKr"
    "GeZSp3f02o1+58gzyZapSUh7lOS5byp2S13UvpNFZHHvm/FIwVSe3T/K+lwK1HjDQ94o0j"
    "18MqKD49qh/PjLAKoyxTY6DNzFdKP8Ap/2cAh8dwe9W+oNBQ8jiOaSZUD9hSDxaD7GvTQV"
    "JUMx4QsRGuIuGgvPE5pJuoVeChHuZmChpqKEaxGcka5fiNMIIhmZnW13TQXsEU5Xmnb/Qr"
    "S+2L00CSSy+GknWtJyGK1an6zDJTKSl/QvkXuTOwWXuzipcrsQpgiV9pKbSajk2mAKZR3q"
    "AO/G5hCZiqy2gIb3LEAxDTD81P5wcn4BFAMYpoZb/Bd83ehwoXz7ChaYIwbAAifQtUfwqG"
    "C+Wyb9bUDcmXkY3p+WfS8mBjMxON+8wXFlQVu+EKxramEh2KWttRDc7t4KYgvQrwka8Z1P"
    "otAR2rjIu66HCGzPUnmGukexGxa87jwSgPf4IgO8x2HR1YOXVAXhxWuZtJKNVR6A/TR1Hu"
    "UFQb44ywDyxVkiyKSKqXHephonsIjAB+2+ENeDlDvguvO4dWH6njDZxSSVy46VScq1yw0S"
    "Pb/b3YcXeQcb3ogSNAJzFOOPWJpRlggLbpFtWYK60+tpzyBOEpdxsS4/biWv0OjCCOD/DU"
    "17UW8PO+0uz31PVi+XKXvjPQVawp625JGpx8rgoRYHabL4jLaVVG0pwW3rZ4XyPoKAKIT/"
    "YwAs5860NQQKwpIyFn8t1ALOigs0HVibOb18R/8dmD4BevH+gFQa98pmQyqJwAweV0/voz"
    "J5ubd6XiT/g9NtbaNsq9H+zCWjXyvLtyKm/3Bycnp6eXJ0enF1fnZ5eX51tJ2+olVp89i1"
    "cEOmssBq9Lwwz9aQXSpN/Li6mtMigrxHXWchh+sMeLwPagH7e4LGd1362/6eoOEvwl0LkM"
    "8JGvC3/c98twWciyIi/lUG6egqUTi6CstGZOaWJW36F5zFvwDJcmgMaePUW7sXRuFaVtRc"
    "MLsEjQP3NJO66jRFX3UaVVjNFWOjyk9SXg1tmK5xaJ+cZ9Fe4VbJ2sHziP7KNe/nWztDVI"
    "UWz5rJ1LteO4lHQD5QfRQM0CigeLNvJG1GktRALkXj5oKzLBPvWfK8exZ1laPCYIwp/edh"
    "X0xQrnokYR2bMjPBv0BVjNK20dyPCwvRHSaYWopqKsg4JLf9qSwGpABOIAro21yg3922fw"
    "vzoNPrX4cVaaSD6/B4t1C++cMjYMLM8woxR7J/oTKseR5JByFlmDeq6qQIc90JYzRgPk/D"
    "ZNWXu4HJpPLKFdzwB13HSb9030+dXf6M6JV86lhfswMQrAnJZ/nUT29F91Sai8g+CHqVGX"
    "VLEfW8oZ8XZZeIIZ0N6YWiG2ZukTpI1bhN9HEm16fjFNen46jrkyoXADpAxHDOgvNf2lQy"
    "FTPJzywe5wBR43AuxZVvgzHKhfGWoHH47l6XvNamSr4R7FEweJ+F19AsfVbYEdWjrhDq27"
    "Y4bvdyAu5QtYD9PUG8OBq0W4B+FbFRHWebsFPm6xqaqeqmHy3bTkVhM2koUCHEA6QM8ayI"
    "071cftkxhrZ5mJci21BDFAUpB94BouYBvfs4AtddBk8K+P/HuTtpmgpllO5s46MOgT7F5P"
    "uHeporU7/fCxgFroWQY5M4vr3m8TpKuYAbKbZqNWr6otMCiaEt5A0dpWYe0XX2iGbRDsmT"
    "XHOjHRwP1gJcD1IyrteF6zEveySCnXmuNsX7pomIsniSyuJJwoN3B8A2LKFMGFXfC1snzw"
    "RhvdF081bebOw/GfFPCDY4SPNSUGhTae1r+2x4zpfTFo2QmeFtv6EslBnNfgIeZNWC4J22"
    "wCWQBMXM4UbWzTVEJo2R+TrG3F4oCM6/vge6ZpFgGlOjPRGgo7E5Jd4n1qtiFshmQ28T61"
    "vBfCSq9JGo8f5l/2D2YKXDO486a0vQQIeIUvzevQkkL8oNdj0pBWlv4s43S0To2LacCTrV"
    "CzrBfccLt+QNTswX3p5HXl8m9zRa7hliHgloADGWhsnFyD3BBgdpco+Bm0oKknRf40x5Cf"
    "DQ0IlEQTr4oKAWvkBLlSYROADGCgtTH1TlAc4PgKqRDDHA2pBcASRXH0nIBLQFzfb3Ffdj"
    "wq/xCQlKuAdLDsikmjpOSTvfrJAhnztdWpCqcTnpdu+Hco//Vh6A3fYVurkNhRtREkSuEo"
    "R3n/VvoWqPUYRH8FvC3OC2b4TMmGZ+438bBSxvkUDIrfWt1xdv3Obh6MiQW9W3jaJDo4Bl"
    "NEjZQMvo/lpCmdtD8w3gWdwemHaI6TJee/rclS7jtQRv+hgx8ratBkkTs50WOw6A9vkG0G"
    "diJjqW6b4e9o0yAuTYvuUt7luYu2bTuM7cNWuzT2XOhVUlq2bn/OU7ccxxxXshSBEXwCZC"
    "9Zqn2dUzOqnac9rc1GRxoqGXtSxFOnTObNy9hBgSBwMCI0lzRdJgBVUVLPlV9SZQU3mAUl"
    "H1XBL5ThKbNgD4oE3UipkhM+ao2FJXaLz7dcyPndznOXJU2FQtYH9P0GAsioJ40wLOxQQN"
    "x50Oz3dJo+3lBH1sCz1SZH9PUKctdvgeLdpectlYV3KOC3z35dLe+xThpY987xKODDuf+O"
    "64x2POOVf1YMlcf5JiM32mRqv7qIpFqRdixbZkb+PUNyvZyJkryiGocMDjphac5xzwBRWO"
    "pyeZ0l2kZLuIeB5Ac7aKS7+QuBT7KKrTPRztyerrqGDzGB49CgZnGE5Ht5kDTh8FgzMCJ7"
    "JTrOcC1E/DII1st+2zwHBr1YzbqiWHTUQIGbhJ4FqI6MlyDds4UgZwGGCo61qchjb5oJYt"
    "AQMzDKapmXJMjrZELLft2eksCSNTWkPDkJe5RIAIYePymh4fZc1/nJoAOep4QLQIqhskkz"
    "slWxw5k3ZzSLtb5KRpTBRx8jEtITI2mySKZcynJgbq/fSuyOJT40TWFeB6kJKlN6yPC02U"
    "ywsFKcaqEJtDpIzPdebzCuJ3copn4wKMDtMyTteZ04+afp9k9ornr0fRuN1+KT7GzO+wpH"
    "0miz5iXp118AQ7eGHKSBbZ9UqRXRkO0M3j69ihnfS0JY9M/alBwJfq6hgZsDE+j3GDOtn5"
    "0Tn7JPhaVecF6bh1UU9IN0rPLWN+kFX6QRozLelgkQzeeS5xnWPpuHan0x+LoxZwLiZoKI"
    "yIJxf+5ArsgHfvxbWHPpJ3vNgVxJucModL1gLOxQR1+qLId0bU3dG9nCCR57tDacC3x6NP"
    "LeD/5dbhxkOecDXwc4K6wtDXpf9XEV6XcM6MZa4kMiMXZXeggwo53uV7/E17lN8xdkuI2e"
    "FeTlD77k7qi73/4dfSuarTu1jE0helbJzwf55J+D9PEf7Po8I/O8it6gRaDmB5I+dDZI0b"
    "3aWkB17qGDM4l+heKWaNT06qFaVsAOJVJ9daaWsopakXk4d7DGnzJpdyUkbYYmWC50Ay4m"
    "G6Boz3Cs6H9FAr4E4QomWGqDobokztHiJpJs9WMet28kISImvCJFb1MoJvv1CWll70JQsS"
    "s7eszm9Z8MSfomJ6tJcav3dc/+NHocO3gP09QV3+rj0Y3VIFi3ddSELPEiJ2nBwidhwJEV"
    "vqmrVJDHDIxp1wHxXuNERn2OZhD6FpAfI5Qe1eT7oZ9Md3wxbwridoyPccpZd7VQ92GVC1"
    "dxg25so8Rgj6edgXE5QqsdThCVSZmeBfoCpGaTZT7seFhailBEwtPGwUZByS+/30CoISQS"
    "t9hQsvZqFZknQQXuG2B4bnYk+QirFl52xZy+ZshbcN+KmmVtzxIdnmu5huKpzyxnd5M6ET"
    "khbAHxN02xZoIL7QKzKfZdHoJOtz4g57wls56QHqRuzeIM2jJkTIApYi4XUkIw/uHOoPsi"
    "qtFYRHap5gsER6FoIQBRthcVGiiOUXaMK0lcgzVVrdmyTOzKFqypKqoPs8OoMgVY1Fl9qq"
    "DGwECy8YSeRs2QjPZFjQNqUFvlXR6Sy2A6ajqfOkxgLokl+v5gbQsaTUTeN6zMvOklJXJW"
    "5VfrRuzRZEFg9SmziFvPEg1R6lW7NxmxXUF5ykyzKCF8gI7hzr+0KoIucINxEq3XoxTF6O"
    "76YAVGYI0Rc4XWnaPRcTOeRWHaQFDD36GlUWJgQRuT3LjV5xTJClx6QNS/bac5rXOQaosH"
    "Pk2VUm78izqxT3SFIZVg16D5cD6BBZ47wjy4kueIDkZhGYk23aHgWzZ6drxQvYs90pPbr2"
    "p+Vy81FVmMLNndP3NoMb2ZDip5AMONNhjCCabP6JUjZieq/cbZSpqRumsGRq6rfIdaamZl"
    "rVGkG8S61qFh0gJlMeoK68NPuLo2no2t2x9C/5dDdb2JJ1OH5kn9XlSHN/6+eUOlwfQUBF"
    "I7DQdKDhX04/LbAh7ikk5S+YQlwJgWICxQAGbnwADA3IAE+zJIUp+bbW0MANDrkQ4KXcII"
    "vCycufQf3aZNOE6w3NzEjz0/g0X+7hfR6Fb5uWT0l1rSzfip7qh5OT09PLk6PTi6vzs8vL"
    "86uj7ZIQrUpbG66FG0EM7bqznPTH1uVdrcsRxUq8+up5f/QtcZ3FSm4wFiXfoX2Bn/SAP8"
    "k9vM+73ma0EfqiZOemaY9GvEh+b1PcxNTh/vjPAv9FoucHSl/awsg+PTCmlDjFD4cSlk7F"
    "G166GbcHXWk0EO7uyKMkVk3QnZ16x83b8+qHfbkLUOy7OR4L3UTXSD9ZaAhZljI/JMRFBt"
    "Krzpcp8NrY2tKNX26h/zMI6lSbxwTdJ6t63PZ1fhNrq+B5y5m7unxP+MwPnLxO9mX4ONMi"
    "88zuczo5W7o8sSR+EuZyHety7eS7msXmMksENo6UOZMlQEwPD8pjIgxSMQthFgthWOqLwJ"
    "0hGCpIzmIH6qOnjYkdUGVlLdGkKHlerRBZE0Kiyt7fM/NXMvT7aQjJYv5yxLNCfA/Tspm0"
    "zjOpq0jOpVoLEjHV2vMmL58G+oUmL5+r555BnNXkFRxdeU1eZVpx2lBXZisuxnjj1Byk2W"
    "xkr02Z7rfM0bZKR9vEqPDkXWhyJPh+KuzCGXjPs/jbnp+nZOA9j2h/8EuVA2GneQPRPc56"
    "Tm/aMb0xGXHMWENQsoOtj6R6D9vX2drtzJc2sk2ocjH7/n9xVpfh"
)
