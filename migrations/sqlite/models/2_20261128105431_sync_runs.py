from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "import_mapping" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "account_id" INT NOT NULL,
    "value" VARCHAR(256) NOT NULL,
    "value_key" VARCHAR(256) NOT NULL,
    "connection_id" INT NOT NULL REFERENCES "tenant_connection" ("id") ON DELETE CASCADE,
    "site_id" INT NOT NULL REFERENCES "site" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_import_mapp_connect_de2ca7" UNIQUE ("connection_id", "value_key")
) /* W3: one classification value (office or department, or `Undefined`) routed to one site. */;
CREATE INDEX IF NOT EXISTS "idx_import_mapp_account_b1bc36" ON "import_mapping" ("account_id");
        CREATE TABLE IF NOT EXISTS "sync_run" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "active_connection_id" INT UNIQUE,
    "status" VARCHAR(10) NOT NULL /* QUEUED: QUEUED\nRUNNING: RUNNING\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED\nCANCELLED: CANCELLED */,
    "trigger" VARCHAR(10) NOT NULL /* MANUAL: MANUAL\nSCHEDULE: SCHEDULE */,
    "dry_run" INT NOT NULL,
    "phase" VARCHAR(32) NOT NULL,
    "fetched" INT NOT NULL,
    "created" INT NOT NULL,
    "updated" INT NOT NULL,
    "unchanged" INT NOT NULL,
    "skipped_filter" INT NOT NULL,
    "skipped_unmapped" INT NOT NULL,
    "errors" INT NOT NULL,
    "total" INT,
    "error_message" VARCHAR(1000) NOT NULL,
    "cancel_requested" INT NOT NULL,
    "requested_by" INT,
    "created_at" TIMESTAMP NOT NULL,
    "started_at" TIMESTAMP,
    "finished_at" TIMESTAMP,
    "heartbeat_at" TIMESTAMP,
    "account_id" INT NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE,
    "connection_id" INT NOT NULL REFERENCES "tenant_connection" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_sync_run_account_8ff6de" ON "sync_run" ("account_id", "id");
CREATE INDEX IF NOT EXISTS "idx_sync_run_connect_2e9b6b" ON "sync_run" ("connection_id", "id");
        CREATE TABLE IF NOT EXISTS "change_log_entry" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "account_id" INT NOT NULL,
    "action" VARCHAR(8) NOT NULL /* CREATE: CREATE\nUPDATE: UPDATE\nSKIP: SKIP\nREMOVED: REMOVED */,
    "entra_object_id" VARCHAR(64) NOT NULL,
    "email" VARCHAR(320) NOT NULL,
    "display_name" VARCHAR(256) NOT NULL,
    "end_user_id" INT,
    "site_id" INT,
    "reason" VARCHAR(40) NOT NULL,
    "changes" JSON NOT NULL,
    "run_id" INT NOT NULL REFERENCES "sync_run" ("id") ON DELETE CASCADE
) /* One user's outcome in one run: created or updated (field by field), or skipped (with why). */;
CREATE INDEX IF NOT EXISTS "idx_change_log__run_id_c722cd" ON "change_log_entry" ("run_id", "action");
        ALTER TABLE "tenant_connection" ADD "classification" VARCHAR(12) /* OFFICE: OFFICE\nDEPARTMENT: DEPARTMENT */;
        ALTER TABLE "tenant_connection" ADD "configured_at" TIMESTAMP;
        ALTER TABLE "tenant_connection" ADD "match_attribute" VARCHAR(6) NOT NULL DEFAULT 'UPN' /* UPN: UPN\nMAIL: MAIL */;
        ALTER TABLE "tenant_connection" ADD "user_types" JSON NOT NULL;
        ALTER TABLE "tenant_connection" ADD "group_filter" VARCHAR(12) NOT NULL DEFAULT 'NONE' /* NONE: NONE\nALL_GROUPS: ALL_GROUPS\nSELECTED: SELECTED */;
        ALTER TABLE "tenant_connection" ADD "config_version" INT NOT NULL DEFAULT 0;
        ALTER TABLE "tenant_connection" ADD "selected_group_ids" JSON NOT NULL;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "tenant_connection" DROP COLUMN "classification";
        ALTER TABLE "tenant_connection" DROP COLUMN "configured_at";
        ALTER TABLE "tenant_connection" DROP COLUMN "match_attribute";
        ALTER TABLE "tenant_connection" DROP COLUMN "user_types";
        ALTER TABLE "tenant_connection" DROP COLUMN "group_filter";
        ALTER TABLE "tenant_connection" DROP COLUMN "config_version";
        ALTER TABLE "tenant_connection" DROP COLUMN "selected_group_ids";
        DROP TABLE IF EXISTS "sync_run";
        DROP TABLE IF EXISTS "change_log_entry";
        DROP TABLE IF EXISTS "import_mapping";"""


MODELS_STATE = (
    "eJztXW1zm7gW/isaf7ntTNrJe7O+OzvjOKT11sa5ftnd2bpDMJZtNlh4QTT17Oa/X0mAeS"
    "dAjIOpvhgsdAQ8R0g6R4+O/mms9BnUzPctRdEthBtN8E8DyStITsKXjkBDXq+9CzQBy1ON"
    "5ZV9maYmNmSFljWXNROSpBk0FUNdY1VHJBVZmkYTdYVkVNHCS7KQ+rcFJawvIF5Cg1z48p"
    "Ukq2gGv0PT/bt+kOYq1GaBh1Vn9N4sXcKbNUvrIHzLMtK7TSVF16wV8jKvN3ipo21u1X78"
    "BUTQkDGkxWPDoo9Pn855UfeN7Cf1stiP6JOZwblsadj3ulPJS2tIktgfSUNhJEmNHAApOq"
    "Lgkkc12dsv6CO8Oz05/3B+dXZ5fkWysMfcpnx4sm/tAWMLMnjEUeOJXZexbOdgGHugsmME"
    "1vZSNuJxdfOHkCWPHEbWxTENWjfBw9arT/sAdyV/lzSIFnhJET0+ToHyt9ag/ak1eENyva"
    "W31MkHYH8YonPp1L5G8Q5+YfH4CshaMYw75JlkpMAI1q5slbFudEbSjXDXGox6gjhqgsDf"
    "CeoN75qA/DQK6SOTOlK0EVaGYkAKmCTjqEpuyBWsrmB8tQ9KhhQyc0TfuyfVUU/2T4G84K"
    "yPtI3TvqVAP+r0hOGo1WNKXZnm3xrDrzUS6JVTlroJpb65DKlpWwj4vTP6BOhf8GdfFBi8"
    "uokXBrujl2/0Z4M+k2xhXUL6oyTPfE2xm+qi9kQ7kfmDr8WjCVNZeXiUjZkUuOJVD3mtSg"
    "9wY0Yrx7Ujeft5ADWZYRutBm5nulY/w80BVoEnt9K7qV5V8DCCaCZZJjReCJKAZmNSSl1R"
    "MlUMX4jQkBRRW3g2SJEMC70UIlLMwEJ1RYlcRVChRb8QpxFEMsLtbXF1Aoy26/qpntTSRy"
    "+tTlfhFBnJC/ZK9N70TsGWPM5g2rbxKfaS3ZtkspcaLTCFsgENQAYaM4iwKmtNoJPuGKjY"
    "BMNPrXenF5dANYGJdZLjv+B+bcC5+v0ezIlGTEBsKWDoj+BRJRXAwuy/CUlh+H146FX2vb"
    "iFxy28fO1Go1EWtOXbd4auFbbvXNlK23etm15HbAJ2mKCR0P4kdtqdFknyzqth3dmtVJ6q"
    "7knsRgWv244E4D25zADvSdgq8+Cll4Lwkr5MWsrmMg/Afpkq1/KCIF+eZwD58jwRZHqJey"
    "h+TA9FoBOB3/SHQloPSu5A687jVkXpB6JkF5NULTsTKFKuUW5Q6PnR7iF8yDsY8Eb8exGY"
    "oxjfEmtGXSBiuEWGZQmePK+kA4M4yVwmyYb8uLW8QrWLIEDeG2K7U28N260bofGU7Dkt0/"
    "YmYwq0gF19ISBsxNrgoRxHaba4wvJKmr6Q4Db3s0Z5H0FAfZ3/MQGxcxV9BYGKiKVMzF8L"
    "NYHT4wLdANZ6xk7fsLcD0w1gJ2+P6EXzQV2v6UVqMIPH5eZt1CYv91bPm+RfGobtSJNtD9"
    "HXXDb6tbr4Ucz0n05Pz84+nB6fXV5dnH/4cHF1vG2+opfS2rHrzkfalAV6o+eNed6H7NJp"
    "4sfVdYwWMeQ96SobOY32QCDjoCawjxM0vrth/+3jBA0/d+6agP5O0EDo9X8TbprAOSli4l"
    "9lsI6uEo2jq7BtRFtuWdKnf0El/gNItkNjRGvn3tq9MQpXsqrlgtkVqB24Z5ncVWcp/qqz"
    "qMNqppprTd5IeT20YbnaoX16kcV7RXIlewcvIv4rd+Y6X98ZkirUeVbMpt5130knu/OB6p"
    "PggEYBJYN9M2kwkuQGciVq1xacZ2l4z5Pb3fMoC4wZgzFz6r8O+2KCc9UTCfvYVAWDf4Gm"
    "mqUNoxs/zy3ERphgaqkaVpH5nt72l7IUkAI4hSjgb3OBftNr/RHWQbvbvw470mgB1+H6bq"
    "F87YcnwI2Z5x1ijmX/QmdY/cg2RyFnmFerquQIc5lyMR4wH4ku2fXlDmAyubxy8fa/sH6c"
    "lsvG/Yzs8jXiV/K5Y33ZjkDwSsg+y+d++lF8T6VRRA7B0NvbpG4ppp5X9fOi7ApxpLMhPV"
    "cNE+c2qYNStRtEn2SiPp2kUJ9OotQnTS4AdECI45wF57/0qYRVnMQzi8c5IFQ7nEuh8q0J"
    "Rrkw3grUDt/d+5JX+lTNV4M9CQ7vs/CaumUohYmonvQeoe61xHGrmxNwR6oJ7OMECeJo0G"
    "oCdigyR3WSrcFOaa8rOE1VNf9o2fNUDDbMVrkUQjwgyhHPijgby+W3HWNk64d5KbYNm4hi"
    "IOXAOyBUP6B3v47ApcuQRoG8fxzdSdc1KKN0so1POgT6lIgfHuppVKZ+vxuYFLjuhIhN4r"
    "h3LZB+lGmBZFJt12p06os1C3R5aCE2dFSaM6KrzIjmqx2SG7n6rnZwGKwFtB6U5FqvitZj"
    "PvbIanbOXK0L+6aOiPL1JHtbTxKuvDsAtmaxUsKo+j7YKjETOqu1buCevF7bLxnhJwQzHK"
    "WxFFSWVVr58j67POf3syZbIaOQYb+pzlWFhUEB32TNguCNPicpkC6KmcG1bOAVRJitkbkf"
    "E23PVQRn92+BoVt0MQ3WWUkU6OjanBLvE8uqUAKBWthtYrkVnCOxT45EhccvhwezByur3n"
    "ncWVuBGhIiSuG9ew1IXpRrTD0pBWmv4c7XSkTk+LCcGzr7N3SC444XDslrHHMuPDyPfL7c"
    "7qm13TMkOuqgASRYmrgRY/cEMxyl2T0mySqpSDJ8mTPFJSBVw6AWBS3gnYqa5AQtNBZE4A"
    "iYS2JMvdPUb3B2BDSdRogB1prGCqCx+mhAJqDPWbS/e1IOhvfxAQlKuAcPDsitmio2STsf"
    "rNAqnztcWlCqdjHpds9DmWv6YxTgEfyeUHPd/LWwaNImh4Q/RoF5ocgyve3cULcvfnSzh9"
    "fuhUg/39eqAc0C83ZByRrO2x3uPB2flK//9GyWSXnuu+CW9ms3n7uytF/LLGSPEWMN2kZ6"
    "mhHo5Njx8lzfzDV7Jj6BxOOwV8P7XsbyLT5u+RHHLZxMWDetczJhZcapnPq2r1DKfIO1fH"
    "tjOUSxF4IUIajVEarX3Easmmtn9ruLmBs4K8409GJqpViHzmZ5u7cQ02I10SBMNEhT0FXB"
    "QzPtf4IOq9+gVNQ9lyS+k7CbNQA+OGNnxbSQGSMobKX3GEHhf2Nh7ETmzhFBwZZqAvs4QY"
    "OxKHbEj03gnEzQcNxuC8INzbQ9naDbVqdLk+zjBLVbYlvosqTtaSOb6kqOwEDuvljYY58i"
    "uvSJH1w4jGH7k3Az7gpEc85ZNVQyMzZSbBzK1LXUPqlia6gLqWKbcrCrqNdL2cwZycgR2G"
    "OFJ1ktOMtZ4Qs6HM9OMwVjSInFEGEeQKws44IDJHbFPon9+R6OD6T3dVyweSYePQkOZxhO"
    "x7eZA06fBIczAieyA4DnAtQvwyGNDLftnapIbg3HDdWSSf0RQQ5uErgWon6yXNU2TpQDHA"
    "YYGoYe56FN3kZkK8DBDIOJdSzHRBBLxHKbn+8dklAzpRU0TXmRywSICNYu6ubJcdbovKnh"
    "eaPEA+pF0NwlHLkDhsWJc2s3h7W7RU6axqxxTd5EJCTGW5NEs4xzamKgPkx2RRZOjbPuq4"
    "DWg5I8+F51KDRRLc9VpJrLQmoOiXI9V1nPS0i+ySlpjQsoOizLNV1lTXNWXEmjIL42hnMO"
    "q8BTOnphuD2+7uiV1h1l2Hw0DxOvzQrp6gsBYWNTI+BLJeJFKmwMIy+uUidT85x9I4Kf1f"
    "44eg7piPH03DVkbhpn6e2TpWcqetKmDBm4Y65wlVd6NVrtdn8sjprAOZmgYWdEeUbkt5FN"
    "CSVzjA6QwXcniDcd8WNO/7cr1gTOyQS1+6IotEeMjOeeTpAoCDdDaSC0xqNPTeD/514jmY"
    "cC1Wrg7wTddIa+Iv3/iuh693t02NoqMs8RlazdRMdFpnmOi5RpjovoLAffZGnfwW0cwPKu"
    "Gw6J1a52lxK6c2EQzOBMYn1xTB+SHFIoKlkDxPcdWmipr6CU5r5Kru4xovVrXMpZMG+bLQ"
    "nzpsmIh+VqUN/3sHebh1qBydSQLHfDV9kNj/UHiCRFVpYx/XZyRxISq0Mjtu9uhNx+ri4s"
    "o+hHFhTmX1mVv7LgbhxFrf5oKRX+7hr929tOW2gC+0isdOGuNRj1mAHvnRfyxmRZIHOSvE"
    "DmJLJAZmHo1jqR3p1NO+Ey9jjSEJ1qm0c9VKYJ6O8Etbpd6eOgP74bNoF3PkFDoes4Vdyz"
    "aqjLhJo9wrAxV2cxRtCvw76Y4FSJlQ43oKqCwb9AU83S5uQaP88txDzxYGqRaqMi8z293y"
    "+vYChRtNJ7uHBnFmolaQHhHm67mW8u9QSluFp2rpaVjJUlGTaQp5pacaH9s7V3McXssckb"
    "34l5Wzwi0gTkZ4J6rQ5bhtzpFmnPsnh0kv05cRuxkKGc9A0aZuzYII2xERLkyzU4J5hzgn"
    "mcvfppPcbK4nH29rVAc+97WVXME8FJhJUht1V7z96K1dusoL5g6yoe5LBAkENnH60XQhXZ"
    "uKuOUBnWi2HywhbWBaAyeactaKjKshHDNnWuHKVxTGUvT5nEUs4X3SdfNNEzkbIjb6JPol"
    "I80cKknotMpJ6LFFLPRdgNRD+qHAg72WuI7knWwAdpcQ9inGwYxo2xk/3QPpH9O6FfZ151"
    "Z+7miLWTPILcfWf29H+UA1Gw"
)
