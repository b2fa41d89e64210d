from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "review_item" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "account_id" INT NOT NULL,
    "kind" VARCHAR(24) NOT NULL,
    "status" VARCHAR(8) NOT NULL,
    "entra_object_id" VARCHAR(64) NOT NULL,
    "email" VARCHAR(320) NOT NULL,
    "display_name" VARCHAR(256) NOT NULL,
    "candidate_ids" JSONB NOT NULL,
    "routed_site_id" INT,
    "first_run_id" INT,
    "last_run_id" INT,
    "resolution" VARCHAR(8),
    "resolved_end_user_id" INT,
    "resolved_by" INT,
    "resolved_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "connection_id" INT NOT NULL REFERENCES "tenant_connection" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_review_item_connect_813bd4" UNIQUE ("connection_id", "entra_object_id")
);
CREATE INDEX IF NOT EXISTS "idx_review_item_account_fe417b" ON "review_item" ("account_id", "status");
COMMENT ON COLUMN "review_item"."kind" IS 'SEVERAL_PRODUCT_MATCHES: SEVERAL_PRODUCT_MATCHES\nSAME_EMAIL_IN_ENTRA: SAME_EMAIL_IN_ENTRA\nSITE_DISAGREES: SITE_DISAGREES';
COMMENT ON COLUMN "review_item"."status" IS 'OPEN: OPEN\nRESOLVED: RESOLVED';
COMMENT ON COLUMN "review_item"."resolution" IS 'LINK: LINK\nCREATE: CREATE\nIGNORE: IGNORE';
COMMENT ON TABLE "review_item" IS 'An ambiguous case a sync sent to the review queue instead of guessing, and its resolution.';
        COMMENT ON COLUMN "change_log_entry"."action" IS 'CREATE: CREATE\nUPDATE: UPDATE\nSKIP: SKIP\nREMOVED: REMOVED\nINACTIVE: INACTIVE\nACTIVE: ACTIVE\nREVIEW: REVIEW';
        ALTER TABLE "end_user" ADD "display_name" VARCHAR(256) NOT NULL DEFAULT '';
        ALTER TABLE "end_user" ADD "active" BOOL NOT NULL DEFAULT True;
        ALTER TABLE "end_user" ADD "inactive_since" TIMESTAMPTZ;
        ALTER TABLE "end_user" ADD "pin" VARCHAR(12);
        ALTER TABLE "end_user" ADD "inactive_reason" VARCHAR(12);
        ALTER TABLE "end_user" ADD "office" VARCHAR(200) NOT NULL DEFAULT '';
        ALTER TABLE "end_user" ADD "manager_email" VARCHAR(320) NOT NULL DEFAULT '';
        ALTER TABLE "end_user" ADD "department" VARCHAR(200) NOT NULL DEFAULT '';
        ALTER TABLE "sync_run" ADD "reactivated" INT NOT NULL DEFAULT 0;
        ALTER TABLE "sync_run" ADD "proposed_policies" JSONB;
        ALTER TABLE "sync_run" ADD "deactivated" INT NOT NULL DEFAULT 0;
        ALTER TABLE "sync_run" ADD "review_waiting" INT NOT NULL DEFAULT 0;
        ALTER TABLE "tenant_connection" ADD "filter_enabled_only" BOOL NOT NULL DEFAULT False;
        ALTER TABLE "tenant_connection" ADD "exclude_domains" JSONB NOT NULL DEFAULT '[]';
        ALTER TABLE "tenant_connection" ADD "review_conflicts" BOOL NOT NULL DEFAULT False;
        ALTER TABLE "tenant_connection" ADD "include_domains" JSONB NOT NULL DEFAULT '[]';
        ALTER TABLE "tenant_connection" ADD "filter_licensed_only" BOOL NOT NULL DEFAULT False;
        ALTER TABLE "tenant_connection" ADD "exclusion_patterns" JSONB NOT NULL DEFAULT '[]';
        ALTER TABLE "tenant_connection" ADD "lifecycle_policy" VARCHAR(16) NOT NULL DEFAULT 'KEEP';
        ALTER TABLE "tenant_connection" ADD "field_rules" JSONB NOT NULL DEFAULT '{}';
        ALTER TABLE "tenant_connection" ADD "lifecycle_exempt_shared" BOOL NOT NULL DEFAULT False;
        COMMENT ON COLUMN end_user."pin" IS 'KEEP_ACTIVE: KEEP_ACTIVE\nEXCLUDE: EXCLUDE';
COMMENT ON COLUMN end_user."inactive_reason" IS 'DISABLED: DISABLED\nSOFT_DELETED: SOFT_DELETED\nDELETED: DELETED\nOUT_OF_SCOPE: OUT_OF_SCOPE\nMANUAL: MANUAL';
COMMENT ON COLUMN tenant_connection."lifecycle_policy" IS 'KEEP: KEEP\nMARK_INACTIVE: MARK_INACTIVE';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        COMMENT ON COLUMN "change_log_entry"."action" IS 'CREATE: CREATE\nUPDATE: UPDATE\nSKIP: SKIP\nREMOVED: REMOVED';
        ALTER TABLE "end_user" DROP COLUMN "display_name";
        ALTER TABLE "end_user" DROP COLUMN "active";
        ALTER TABLE "end_user" DROP COLUMN "inactive_since";
        ALTER TABLE "end_user" DROP COLUMN "pin";
        ALTER TABLE "end_user" DROP COLUMN "inactive_reason";
        ALTER TABLE "end_user" DROP COLUMN "office";
        ALTER TABLE "end_user" DROP COLUMN "manager_email";
        ALTER TABLE "end_user" DROP COLUMN "department";
        ALTER TABLE "sync_run" DROP COLUMN "reactivated";
        ALTER TABLE "sync_run" DROP COLUMN "proposed_policies";
        ALTER TABLE "sync_run" DROP COLUMN "deactivated";
        ALTER TABLE "sync_run" DROP COLUMN "review_waiting";
        ALTER TABLE "tenant_connection" DROP COLUMN "filter_enabled_only";
        ALTER TABLE "tenant_connection" DROP COLUMN "exclude_domains";
        ALTER TABLE "tenant_connection" DROP COLUMN "review_conflicts";
        ALTER TABLE "tenant_connection" DROP COLUMN "include_domains";
        ALTER TABLE "tenant_connection" DROP COLUMN "filter_licensed_only";
        ALTER TABLE "tenant_connection" DROP COLUMN "exclusion_patterns";
        ALTER TABLE "tenant_connection" DROP COLUMN "lifecycle_policy";
        ALTER TABLE "tenant_connection" DROP COLUMN "field_rules";
        ALTER TABLE "tenant_connection" DROP COLUMN "lifecycle_exempt_shared";
        DROP TABLE IF EXISTS "review_item";"""


MODELS_STATE = (
    "eJztXVlz2zqW/isovUxulW8q3hK3pquraIl2OJElt5bkTrduMZQESWxToJqLHVdP/vsAIC"
    "luIE3QokwxeJG44IDkd7CdFf9pbcwFNOz30nxuushptcF/WkjbQHyQvHUCWtp2G94gFxxt"
    "ZtCyWqTQzHYsbU7qWmqGDfGlBbTnlr51dBPhq8g1DHLRnOOCOlqFl1yk/9uFqmOuoLOGFr"
    "7xzz/xZR0t4A9oB6fbB3WpQ2MRe1l9QZ5Nr6vO85ZeU5BzQwuSp83UuWm4GxQW3j47axPt"
    "Suve668ggpbmQFK9Y7nk9cnb+R8afJH3pmER7xUjNAu41FzDiXzuTA2vtVS1PxirI3msqi"
    "0OgOYmIuDiV7Xp16/IK/x+dnrx6eLq/OPFFS5CX3N35dNP79EhMB4hhac/bv2k9zVH80pQ"
    "jENQ6X8K1s5as9i4BuUTyOJXTiIb4JgHbXAhxDZsT4cAd6P9UA2IVs6aIPrhQw6UX6Vh57"
    "M0fIdL/UYeaeIO4HWMvn/rzLtH8I73MDa+MnI3FGMFv5OG5jCFdUBbZ6xbyljtyvfScHwn"
    "98dtEDudorvRfRvgn1YpfhRiRw43ksyYW5AApmpOmiVdfMfRN5Dd7OOUCYYsfNL3wUF92F"
    "O8K+APXAyQ8eyPbznQj5U7eTSW7ihTN7b9b4PiJ41lcueMXn1OXH33McGmXSXgmzL+DMgp"
    "+MegL1N4TdtZWfSJYbnxP1rknTTXMVVkPqnaIjIUB1cD1H6SSWT5EBnxyIWZNn940qyFGr"
    "sTNg9tq6sP8NlON45rn/LmyxAaGsU23QyCyXSrf4HPR9gEfgaNPrgaNoUQI4gWqmtD65Ug"
    "yWgxwbU0FSVbd+ArERrhKhoLzzOaq5aLXgsRrmbooqaihO8iOCdVvxKnMUQacjq76poK2B"
    "OcrU3z4ZVoffNqaRJIZPIzz8ys6TB9a3O2SV7RkLain0SeTZ4Un+5YUuVuIswRKr0pt5BQ"
    "2ZLADGoWtABejS0gcnTNaAMTr1mA7thg9Fn6/ezyI9BtYDsmLvHf4PvWgkv9x3ewxByxAR"
    "Y4gWU+gScd89116LkNcWXO++T6tOpnCTFYiMF840arVRW01QvBlmmUFoID2loLwVL3Tum3"
    "Af2borHc+dxXOoqEL4XH9RCBvVGKp6mHFPthwduOIzF4Tz8WgPc0KbqG8JJbcXjxXKauNX"
    "vNA3CUps6tvCTIHy8KgPzxIhNkckuocX5NNU5sEoGP5kMprscp98B1/3XrwvQjYXKASS6X"
    "fSuTyrXKjRO9vNo9ho68hwVvSgmagjmN8Q2WZvQVwoJbalmWoe4MazoyiLPEZXzZ0p52kl"
    "eidWEE8HdDx5vUpVFH6sqtn9nq5Splb7ymQCvYM1cyciymDJ4ocZIni89pWdUwVyrclX5R"
    "KB8gCIhC+L9sgOXcubmBQEdYUsbir4vawJ9xgWkBd7ugh+/o14HZM6AHv52Qm/aDvt2Sm0"
    "RgBk/r59/SMnm1j3pZJP9ny/K0jZqnRvuTS0a/1le/ipj+l7Oz8/NPZx/OP15dXnz6dHn1"
    "YTd8pW/ljWPXyi0ZymKz0cvCvJhD9qk0ieIaaE7LCPIhdZ2FnFZnKON1UBt4/1M0ue/Sc+"
    "9/ikZflPs2IL9TNJTvBl/lbhv4B1Ok9KXOWPmKywdHUxRcCc6H8ldF/kaIyH8ZtcBVAYnq"
    "KlOgukrKU2S011Rz9i84Z3eabNmVQdo4ldj+BVi40XSDC+aAoHHgnhdScZ3n6LjO00quhW"
    "5vDe1Z5dXqJukah/bZZRGNFy6VrVG8TOm8ApcAvvk2QVVqwq2ZHL7v+ZZ4EfCBGqEQgKYB"
    "xQKCnbWAyVIdBRSNGwsuigy8F9nj7kXavY4KkAzz+/+MBv0MhWxIktTL6XMH/B8wdLuypX"
    "frr0sX0VUpmLm64ejIfk8e+7eqGJADOIEopqMLgH53J/2R5EGnN7hOKt9IBdfJ9u4ivvEj"
    "JBAC0MtKNF8b8EoFWvO8mE4SCrSwVdVJeRa4IDK0ZhHvxGx1WbCAKaQm4wqI+Cedx0m9dN"
    "1PHWT+TOmiIircSLETEL+TkM+S931FGTGN8GmzfhVVVmUeJ8cgAx7MRlyJFBj2Cl6UAyKB"
    "dDGkl7plO9zSdpyqcevr00KeVKc5nlSnaU8qQysBdIxI4FwE53+ZM9XRnSy3NTbOMaLG4V"
    "yJZ+AWY8SF8Y6gcfjuX828MWc6XwsOKQS8L8Jrm641L+3XGlIfEOo7qT+RepyA+1Rt4P1P"
    "kdwfD6U2oH9lzFenxQbsnPG6hhasuqlOqzZhUdgcGllUCvEYqUC8KOJ0LccvOzJom4d5Nb"
    "ZEuNUsZwNZznI5lsQYVeMm00rWguZyqWfNp2yUQwqBcBGEhV38kHZxT/Ns8Y/WKcLG4V3J"
    "SE0czB4Z7fraNA2ooSy3v4AoAfIMU1WFcqDHPqyJ8XowoEv/nYnxWkm4VvYnd9cyXnpT1H"
    "Eh3TPUpA3pOvJwU/Ms6i/LQIxqarwqaXWVkXTdI/5+wdEUjQY3JONNTx6T69GzKdpd3l0Z"
    "TMbq4EYddQb3chtEz6YoLmWVkqvOishVZ9ly1VmyS+0YZOuINTXnx92kqUXsTZ1jb7Z66Z"
    "7sk9a5936R5Xs18MWNnEyR/EenN+niq/5BPfoedY6jSHIsHWJENeZG6VXxvuOhA7d/iMj3"
    "s8I28lcPKepyy4iaoX6YVQTVR5BcQKWiOtPUYnap8+wiorazB7nmRm1HHIw4uR6nFFyvC9"
    "cZnT2ViUtE4DUlIqCJiIq4+IPFxScb7x6AbVhizCSqkQ5bJ29pZbM1LedO2269j0z5TMcL"
    "nOR5Tuu0qLqJlH0xzcC38zaN9J/jZb+tL/U5zeIIHjXDheCdZwgiwf2h4Y3G+n+fYG4vdQ"
    "QX338DlumSpACOSWsiQKdzDFT4HKan9zyWlZM+hunvLZyzD+mcXeP1y/HBHMJKmzePOmtH"
    "0EBP7EpsjuEAwotyg33eK0E6HLj5RokUnViWC0Hn8IJOfN3xyiV5gxOMJ5fnqe4r5J5Gyz"
    "1D+KjDJ8WBmxZD6IncPcmTeCxaTtWDgi+nOkdA28z0lWu6NphrNgQaILYOYGOJg0gWNL84"
    "rRVgNrskE5rtQG0BzCVYuRDLLmh1AjS0oPnKLWjjgZJUzsh0XtmjpmiKSM62LbQAyT+n0e"
    "xttGTYjdr4cQZuzhZJ4oafpTlgA6HjZVC3MdzeO3naYBs/ArzDFUzR0jQM88lOPBNLXFg+"
    "0/AnLTY6AmsNf9LaxF+SmeMtKYKlImazAm/9xoq7rePaInpWCGjHukqI5a/G38EWHV72AQ"
    "lo6yxBtEbyV3ko9dT74aA76YzVO2nc+SyP2iDjxhSNpDtZle8kpacqfdWPfWFcxCWVsawS"
    "17DboUyrjJ0nB95CkkuRKIKz7CiCs3TQkjdclWRxSH1Al9TBvdxvcbKZ0LQB+SX59kaDnp"
    "+mzzsqwwqRc+/oA2iOIOPCMftfi+iCg+qf8CpYJ2tiPATwpdxKEtYj8RZ5XnMSb1ELkMqv"
    "xUoTijx+6VWqlzmEO7tZkkxAm+GTyY1sgkoAy8o9Gegoyi6+4zXU2Lm71VP6X9qA/E5RMp"
    "+2ctsfDEl+bPpfg5U4hfURD7rl8thmkYs+kNEHCFYzhn3yZYRnLAOlADYKUZnNkWKkwoe+"
    "Pm61woe++d7Uwof+V+R6ER964WAi3CHeetLclzvE29juR5hrChpCjKjttBjm+3iBkzwLvo"
    "2LqjpSrUjhQnuj4cZiEW9gUsHvOmoDYi436EZmJ8Bem5bzu6Hj9dcJMEyySyVwt2S/MmL9"
    "JpvCEiM7MXF/J6YX+J29KVoFzxAblAuDdx0Hpr07GpImz71lc5yqcfti79/2lu1XwAb48L"
    "4ErZFy21cVXktzSYT3v/P40sDLyBTCY/gjSxnul2+E6Thv2S//Mc637+xW/b1B/zYonjT6"
    "JEzJP7Y6XumXkMjilA2UyI5XAhPqluYL3kXULULwFoL3Ww+fxy5409dgyNteCEOemO2X2P"
    "OGSpG4fvpOIrz2LYVZXg+xw3uGHUzUqiTPr1i3/IrrFmEmahrXi5iJhGJQJAaq2dq0SGKg"
    "7IVpemNxhnvztU9682UIDS3DJy69m2dDAI8NAH4anVeClErf00SoQqHplWiVEDTr6RWVxq"
    "tSudDf6pglGoa7IOdIh7iQ6u+6vF8JMSvIlzwp2DY3rqoIQoOF1Hg4EyhNJl9WPZdFvhd/"
    "0gYAf9Qxon+fyBM/rpPDT92jagPvf4qGk35f6d+2gX8wRaNJpyPLXbq3Q3A4RTeSQreB8P"
    "6nqCP1O3KPXtodTpH0TVLGuBZVur8fDr6SvR1Sl1rFGFxxEnT89NXKWyGV4XiE/Oj2Mhx1"
    "PsvdSU/G/PWPyrBk/zsaLqznYKZLLFPy8tFHqA64nc3uytFmot+uNZtzG1qf4IANniZfWX"
    "A2+JJqyfMi21mcZ29ncZ7azmIJnfmatcFCdrheSHE4DcWHI5mjfUUtj3kypBBwJuH0NaAc"
    "cEYoBJwpONF8raEVH6BRGgFpalH+oG+3cIFLGw5rqZadGDFFKMDNAtdFRJvG1WxZpALgJM"
    "DQskyWHjcT1pBAgJmO9tyYj1yNNEIh4EzCuYBUNcQ5/yeoBKzpVloGVkvA+hKsNJXok6Y7"
    "vqWmMLJJQgFuSg9gmVvTxrP51jT0uQ65EisxiV+VXKmeNiMWlJVkUSIWoLI6yYC2zmlSbi"
    "a9XhuQX7pX8FiiOwWPpTIayMsC+prLTHXNZWrvcgxf7ubO7C6QIGteJrcqvPUc09EYeQkz"
    "B/JdeZEJJUPQUDfQtrUVl0Y3Rdi4xnv6oVDrJcVyDBUMb1MyABtBZDRrtZdrs2CRC+MFh/"
    "FihxxvWqU4mRhN0tCuXOLz4u1XxiXGpAkFvFnwasslnJeBN0oo4M2C11njJfbaNBj43him"
    "lotwjDYB8ZIQHx/IOQh2B5Prngzuh3JHGSm+QLPz9aY342PxUJZ6bMwtna1Gzp0JU7RiGu"
    "SYBrUtFsC5kwsmqMQwkgMsf2BJglQkF6xPIAm9JKLGGh0/VCRqzPMqKsH0GGHzenaDWe6n"
    "CyvB8zhl85h+JEwuNJwvdaTb61JsTpAKPteZz2uI++QMT8AlGJ2kFZyuM6efTOshy0ufzd"
    "+QonHa7EpMMSKYuiJvZZFSSYSqv8Gwv5dQdXZD3gO8Il1VmawAnpf4KwO4O7SSnrki+xI/"
    "Nwj4SuO3Uw2WEcjNatTZEd0OLa3Gu9XhQruDzZtJeHeQekxs6PwWwd323NyWdvbaEdc5QV"
    "hL6nQGk/64DfwDb8Ngb5vgVokV8P6DTo8w8Pte7neV/i2nzBGQtYF/MEWdQb8vd8Y0hjs4"
    "nKK+LHdH6lCWJuPPbRA9C+7hwiOZcDV2OkVdZRSpMnpWhtf7j/nGkuZafY2HZayCA3K8K/"
    "fkW2nMH+2/I6Rult7hFEn39+qg3/tf3C39ozr1xTKebGnKxgn/l4WE/8sc4f8yLfx7+2r7"
    "K5IyW3LHSGvseFwS9P3vCuADxpsONEHWuNZdyX7RKwtjRrYWJmslxhyfvVNAmrIBiOfpha"
    "vYMWBtbqCap17Mbu4M0uYNLtXkwfXEygyfoGzEk3QNaO/J9B5F0D7PWVCep1eUIWolPEgS"
    "tMIQVWdDlGM+QKTOtfmaMW9nTyQJsiYMYoeeRvDjl/rKtcp2sjix6GV17mVzQ7NtfanPNb"
    "a9oZiYnq6lxv2uNbi5UTpyG3j/JCzyXhqO76iCJTwuJaEXyWh1mp3R6jSV0Wplme42Mx9L"
    "Me4k6zjgSqPvN1se9hCaNiC/UyT1eurtcDC5H7VBeDxFI7nnK72Co3qwy4aGt8LwMNcXXM"
    "HdbOpXRXeXY9tfly6ilhIwc3Gz0ZH9njzvb28gKFUS9E0SfvvP4WBPnEqwZe9s2WjOfI2X"
    "DfitZq5TPiw/Xc0Bh7zJPe/2joSkDfDPFN1JCs0bqpRK2lpEo5Otz0lpc7ylnPoILZu5Ns"
    "jzqEkQiiwgqWxgJM04rhxaj5qhbnSEWypP7qpMehFdlAYbYXFRpYjxCzRJ2oPIM4e0ujdJ"
    "nFlAw9FUQ0cPPDqDOFWNRZfaqgw8BEtPGFnkYtpIjmRY0HbUJX5U2eGMWYHQ0dR5UNtotq"
    "16HoklA+0zazhguP2H95eH5/U+ou0NfQnnz5jvXs61DCPPy2IJq54DyiVfZPmeVzAhNG1A"
    "foloMvyiKn2pM1a+ykRGiZyWUr7sfXf6EGCMwmaLV22YL9wJEnJqEakSuDIG0VSQZFLHrd"
    "1h+VLnsYFFLvDnwN+r3nINPiVXgqweWi7y2MZouTxFvAoRQWmhmiT8m69vZNQgugdX96AY"
    "4rEFIvtVbEhVIfjAwQcdzQ13AdWFucFP5hqqGKT1GK4apZSHP0oziEEqGFQNg4jGRN1qDh"
    "6QSvAoRS3YtHc2icxHmaxocBqc+K73PFyPUwqu14XrDJVdag9okeKhIqMpXkbygRqhEIZR"
    "kdXhDbM6BKHfrwR25FdzXO22KKiR7lo+eQPZIw2/zCuzNyg0r/adV1eD2jFLSYtR37wSri"
    "GtScEVNRUrG/dTlSkB8+A0wrUoaOjlxW8qVJb7apie0XzoNilbTaVJU77B2do0H1qMXCnB"
    "rZO8FClPkUIHS4zi669FFpTDZkFxLcZGQNlxin7xOmc9KRmgePbh4qpQPOjFVU5AKLmZdI"
    "YKX44D6ARZ4+JBq8mn8AgRy7aco/DcUQgl5/510f6Qnp778wxpEaoD2s6CMf1oTWdkQYrf"
    "QrXh3IIMoT3b4TVN2Yjh/eCBskKl3zDlrlDp/4pcFyp9oYGuEcT71EAX0ZdiMv0RWsydqH"
    "l0Nr6moetVJxLe8uludrBl63CiyL6oy1EX0dIvKXVaAwQBFY3A0rSAic/8etpgSwJyyCae"
    "YAbxTQh0B+g2sHHhE2CbQAN4mCWbtpB/dwNtXOB9KwF4JQ8oonAKM4bSSD7i5EK8uvEc/C"
    "fJyBvRfOF+RC+FFJFlGp+S6lpf/Sp6qr+cnZ2ffzr7cP7x6vLi06fLqw+7KSF9K29uuFZu"
    "lX5i1f2yNkvMyxXtcU26Klt99XKoy464zmJlazjpq6NJpyPLXZJJJHY6ReT0RlJ6wS3veJ"
    "fDVxn0VS8brzQey31yvkvqy7iH65O/KvI39e8TeSKr3yRlTFMDs66SWJvRSMXSaf9WVm8n"
    "0rCrjofK/T15lcxbU3TvJRsOMhVzp2srlK0tJ1lbWg/qTUDMvjmZKN3MYNAoWaIJua6+eE"
    "+IyzSkNx0vc+D1sPWkm6jcQr8zDurMXDD81LNVPUH5OvfE2ip4fuVc5V25p3yVh34ma+9w"
    "ioIR0fsvM87sP4u1v6TjyZ4RJRFB5swgcz/D95yZvT0TWBapcLzLgBhalsm11VqcSlgIi1"
    "gIk1JfCu4C6V/i5CJbQn30tGn1/NzQ9I1K08DydK0EWROSwFS9vhfmr2zoj9MQUsT85Ytn"
    "pfiepBUjaZ1H0kCRzKVaixMJ1drLJq+IBvqVJq+Iq+eRQVzU5BVvXbwmryqtOBK09Pm6xT"
    "De+HdO8mw2WlimSvdb4Wh7SEfbzDx42avQ7Nx3x6mwS+45dFnE3/byMmfPocuU9gd3Kg6E"
    "/eINRPe0kPR8miM9nzJ3t3GYhqBsB9sIyeE9bN9mabc3X9rUMuGQk9nP/wc93eUU"
)
