from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "sync_run" ADD "approved_at" TIMESTAMPTZ;
        ALTER TABLE "sync_run" ADD "queued_at" TIMESTAMPTZ DEFAULT NULL;
        UPDATE "sync_run" SET "queued_at" = "created_at";
        ALTER TABLE "sync_run" ADD "guard_imported" INT;
        ALTER TABLE "sync_run" ADD "guard_tripped" BOOL NOT NULL DEFAULT False;
        ALTER TABLE "sync_run" ADD "approved_by" INT;
        ALTER TABLE "sync_run" ADD "guard_threshold" DOUBLE PRECISION;
        ALTER TABLE "sync_run" ADD "guard_affected" INT;
        COMMENT ON COLUMN "sync_run"."status" IS 'QUEUED: QUEUED\nRUNNING: RUNNING\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED\nCANCELLED: CANCELLED\nAWAITING_APPROVAL: AWAITING_APPROVAL';
        ALTER TABLE "sync_run" ALTER COLUMN "status" TYPE VARCHAR(20) USING "status"::VARCHAR(20);
        ALTER TABLE "tenant_connection" ADD "mass_change_threshold" DOUBLE PRECISION DEFAULT 0.5;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "sync_run" DROP COLUMN "approved_at";
        ALTER TABLE "sync_run" DROP COLUMN "queued_at";
        ALTER TABLE "sync_run" DROP COLUMN "guard_imported";
        ALTER TABLE "sync_run" DROP COLUMN "guard_tripped";
        ALTER TABLE "sync_run" DROP COLUMN "approved_by";
        ALTER TABLE "sync_run" DROP COLUMN "guard_threshold";
        ALTER TABLE "sync_run" DROP COLUMN "guard_affected";
        COMMENT ON COLUMN "sync_run"."status" IS 'QUEUED: QUEUED\nRUNNING: RUNNING\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED\nCANCELLED: CANCELLED';
        ALTER TABLE "sync_run" ALTER COLUMN "status" TYPE VARCHAR(10) USING "status"::VARCHAR(10);
        ALTER TABLE "tenant_connection" DROP COLUMN "mass_change_threshold";"""


MODELS_STATE = (
    "eJztXetz4rYW/1c0fLm7M9lMXiQpt9MZB5ysWwKUx25vS8drQIAbI1M/ks20+79fSbbx27"
    "Ed7BivvoCxdGTzO9KRztE5R/80NuoCKvoxN5+rJjIaLfBPA0kbiC+CRUegIW23bgG5YUgz"
    "hdaVPJVmuqFJc9LWUlJ0iG8toD7X5K0hqwjfRaaikJvqHFeU0cq9ZSL5bxOKhrqCxhpquO"
    "CPP/FtGS3gV6g7P7cP4lKGysL3svKCPJveF43nLb0nIOOWViRPm4lzVTE3yK28fTbWKtrV"
    "lq3XX0EENcmApHlDM8nrk7ez/6jzj6w3datYr+ihWcClZCqG5+/ORPdeQxR7/bE44sei2M"
    "gA0FxFBFz8qjr99yvyCh/OTi+uLq7PLy+ucRX6mrs7V9+sR7vAWIQUnt648Y2WS4Zk1aAY"
    "u6DS7xCs7bWkRePq1A8gi185iKyDYxK0zg0XW7c/lQHuRvoqKhCtjDVB9OQkAcpP3LD9kR"
    "u+w7Xek0eqeABYA6NnF51ZZQRv/wiLxpdH5oZiLOB3ktAchrB2aKuMdUMYix1+wA3H93xv"
    "3AK+n1N0Pxq0AP5o5OJHKnYkcCPIjLkGCWCiZIRZ0sElhryB0d3eTxlgyMImPXYuqsOe9E"
    "MB/8FFHynPtnxLgH4s3POjMXdPmbrR9b8Vih835knJGb37HLj77jLApl0j4LMw/gjIT/B7"
    "v8dTeFXdWGn0iW698e8N8k6SaagiUp9EaeERxc5dB7VvZBJZPngkHrkxk+YPT5K2EH0lbv"
    "eQtrL4AJ/1cOe4sSlvfxlCRaLYhruBM5lu5V/g8wF2gW9Op3fuul3BxQiihWjqUHslSDxa"
    "THArdUVJlw34SoRGuInawvOM5qJmotdChJsZmqiuKOFSBOek6VfiNIZIQkZ711xdAXuCs7"
    "WqPrwSrc9WK3UCiUx+6pkaNx2GizZnm+AdCUkr+pfIs8mT/NNdlFa5mwgTlEpryk2lVDY4"
    "MIOSBjWAV2MLiAxZUlpAxWsWIBs6GH3kPpw1L4GsA91QcY3/gi9bDS7lr1/AEnNEB1jhBJ"
    "r6BJ5kzHfToL91iBszjoPr06KfxdRgpgZnkxuNRlHQFq8Ea6qSWwl2aCutBHOde6HXAvRr"
    "isZ8+2NPaAscvuVeV0MFtqRUlq7uUuyHBW8rR3zwnl6mgPc0qLq68JIiP7x4LhPXkr7OAr"
    "CXpsq9PCfIlxcpQL68iAWZFDEzzvdpxvFNIvBRfcjFdT/lHrhuv25VmH4gTHYwSeSyvcsk"
    "Zlrl+oleXu0ewkDew4I3ZAQNwRzG+BZrM/IKYcUttCyLMXe6LR0YxHHqMr6tSU87zSvQuz"
    "AC+H9Dw5rUuVGb6/CNb/Hm5SJ1b7ymQCvYVVc8MrRIHTxQ4yhJF5/TuqKirkS4q/2iUt5H"
    "EBCD8H90gPXcubqBQEZYU8bqr4lawJ5xgaoBc7ugl+/ovwOzZ0Av3h+RQv1B3m5JIVGYwd"
    "P6+X1YJy/2US+r5H80NMvaKFlmtD8z6eg38up7UdN/ODs7P786Ozm/vG5eXF01r0924itc"
    "lCTHboQ7Isp8s9HLyjybQ/ZpNPHi6lhO8yjyLnWVlZxGe8jjdVALWN9TNBl06G/re4pGvw"
    "iDFiCfUzTk7/uf+E4L2Bd5VPzrFNrRdaxydB3UjYjklkR19hecRw+AeD00grR25q39K6Nw"
    "I8lKJpgdgtqBe57KXHWeYK86DxusFrK+VaRnMauFNkhXO7TPmmmsV7hWvHWwGbJfOdv72e"
    "bOAFWuybNiOvW+507iEZANVA8FAzQMKF7s63GLkTgzkENRO1lwkUbwXsTL3YuwqxxVBiO2"
    "0n8e9XsxxlWXJGhjk+cG+Bcosl7YMrrx49JEdIUJZqasGDLSj8ljfyqKAQmAE4h89jYH6H"
    "f33G9BHrS7/ZugIY00cBPs7ybKJj9cAqbMvGwQszX7VxrD6ueRdBQwhrm9qkqGMMedMMIC"
    "5vE0jDd9OQuYVCavTMENf9B5nLRL1/3U2eXPkF3JY471VDsC/pKAfhYst41eZJsjm2Xqez"
    "FLFeY9cgg6YGn7vYVoge6oyIqyQ8SQTof0UtZ0I7O27aeq3fr6NJVX1GmCV9Rp2CtKkXIA"
    "7SNiOKfB+S91JhqyEeeCFo2zj6h2OBfi5bfFGGXCeEdQO3z3b2beqDM5Ww92KRi8L8Krq6"
    "Y2z+2j6lKXCPU915tw3YyA21QtYH1PEd8bD7kWoF95tq9O0wnsBHldwR2sqplOi97CorAZ"
    "NEooF+I+UoZ4WsTpWi677hhBWz/MC9Ft6B4VBSkD3j6i+gG9/xADx5MGCwX8/6M8oVRVgR"
    "JK9sPxUAdAn2Hyw0M9ycup3+/69gtuhIDPU29yf8PjeZRyAVeSLatreFeMigUSXpvLUTpM"
    "zZylq+wszQIh4oVcfQMhPHb+jFz3UzKuV4XrEYM9FNzOnFrr4phTR0RZqElpoSbBzrsHYG"
    "uWayaIqmfAVslpQdhsVc24l7Zb60+GXBf8FY6SHBhkWlXceOq+GLnz+bxFg2fmeNmvy0t5"
    "ThOjgEdJMSF4py7xHUjiZRZwK2nGBiKDhs98mWBuL2UEF1/eA001SZyNodKWCNDhsJ0Cnx"
    "PpcDH3Jbqhj4l0u2A+EmX6SFR4/XJ4MLuw0u6dxZy1I6ihQ0QhLvGuAMmKco1dTwpB2hXc"
    "2aREiI4ty5miU76i4193vHJJXuOcfcHleWj4Mr2n1nrPCPNIQEOIsdSNRoTe469wlKT36L"
    "iqKCNR81ROlbIAdw2NaBSkgQ8yauELtFJofoEjoK+xMvVBkR/h4ggoKkkeA8wtSSNA0viR"
    "XE1AXdJEgF9wOwb8Ep2roIBnsLyBTKupokja+2KFdPnMmdT8VLVLV7d/P5QH/LeyAOzUL9"
    "HNbSTc9USh1ygF4f0nBFwq6lMY4TH8GiMbnPq10BmTtt/438a+nbdQjORu963b79051YOB"
    "kwG3qq9bWYN6jp1RP2UNd0YPdyeUuT3UfwM8jdsDsw4xW8Zbi8992TLeSvGmrxGhb1tmkC"
    "Q1266x59hoj28AfSe2RceS4Fdjf6OIADm2bvke1y3MXbNuXGfumpVZpzLnwrLyWLMjALMd"
    "Rma74r0SpJALYB2hesuD7qoZnVTuEW5O1rIo1dBNaJagHdrHOe5fQwyogz6F0cmA5TdVkL"
    "tMayx3C9SQH6GY1zwXR76XnKc1AN6/J2pGSMiUOSp21CVu3v064Sd2WvQMOSosqhawvqdo"
    "OOn1hN5dC9gXUzSatNs83yGVdpdTdMsJXXLL+p6iNtdr8116a3c5RdxnThjjVkRuMBj2P5"
    "FkGKFbjXQMLjiQGj99tbJWSHk47iE/uLQko/ZHvjPp8pi/9lUeluw/OclCexYjU4UmxrR7"
    "qPLFsudixe7OwUazb9eSnjGjlE1QYofHVU24yNjhc5olz89SJcVIyIkR8k+AxnwdlaQhds"
    "L2UJRnoTg5kDnaNtRm2Z50KRicQThtC2gGOD0UDM4QnMjK0Z4JUC8NgzS0KLcOE8O1FSNq"
    "qRYfXBEiZODGgWsiYk3L1G2jSBnAQYChpqlRdtz4k152BAzM8IkkG/UxUyf1UDA4g3ASQ2"
    "Ne1dehrXC6tsbtpIsVXvI5RR2+O+ZagH7lUXSbKdSCZqxW0Awnm11AMfsBOwGy2qWdLcQp"
    "xFANKSL/Y6zM2NVnh0LFzGfiBuq6tMpkOAgR1q7znp6kza2emFw97NREBLDiBOBlTvcYRc"
    "5sZBlsZDvkxFlEhoKEpYefjEmTMLQrk2ytWql1Mq3rwoQM3jh4peUSzvPA6yVk8MbBa6w1"
    "qK9VJQLfW0WVEhH20QYgXhLiwwM5AcFOf3LT5cFgyLeFkWCf4LdzKaSFflk85LluNOaaHG"
    "2tSJwJQ7RsGswwDUrbrUZ06WyzYICKiZEEYLP7LwdIWS7p6vgrh93UWXBC/JA6TDf1NMEJ"
    "1uZ1Dqb7COs3smvMcjsrTQ6e+ynrx/QDYXIqcb6Ukayvc7E5QMr4XGU+ryEekzM8AedgdJ"
    "CWcbrKnH5StYc4Z9Bo/roUtbNmF7IVw2L2CnKKY5k7WETkG4j9vR+3wLKivFFWFA8LqDPi"
    "K+ME27SRrrrikaE91wj4QsMEQx02Il4wqlPHBw7a54b6h1V5EYR2SBSNInQy3Dj3WAxhmT"
    "GE+lzd5j992SGuch6aBtdu9ye9cQvYF1M0EsYkvgl/NnKsgPcf23SA8YUDvtcRencZdQ6H"
    "rAXsiylq93s9vj2moYLO5RT1eL4zEoc8Nxl/bAHvL6cMVx7xhKu+n1PUEUaeJr2/8vC6gD"
    "NaTWMtvsbD0tdAiRzv8F3+jhtnDyrdEVI3S+tyirjBQOz3uv/Dw9K+qtJYzOPJFqasnfLf"
    "TKX8NxOU/2ZY+WeHoJedfNoGLGvWuQBZ7Xp3IUfrrDSMGVyIdK0UMcfHJ6QOU9YA8SS7cB"
    "GJqdfqBopJ5sX47h5BWj/hUky6RUutjPEJikc8SFeD/h6MIk+D9nnCgvI8vKJ0UcvhQRKg"
    "ZRtRVd6IMtQHiMS5NF9HzNvxE0mArA5CrOxpBD9+Ka9MLe8g8xOzUVblUeY/LTevmh5upc"
    "LjrtG/vRXafAtY3yQscsANx/fUwOJe59LQ0yROOY1PnHIaSpyy0lRzGxv2n447wTZKXGn0"
    "7G6bhT2EpgXI5xRx3a54N+xPBqMWcK+naMR3baOXc1UNdulQsVYYFubyIkIJ+nnU78UYVS"
    "KpgwJUnhvgX6DIemF7po0flyaiOyVgZuJuIyP9mDzvpzdQlAhayTNccDILSEnSQHCGI3ll"
    "7edkYI+firFl72zZSMZ8jZcN+K1mZtTRmynD8sPNlCjyJoOsp4gRkhbAH1N0zwk0PZ2QKz"
    "dgGotOvD0n6qBkvJQTH6GmR64NkjxqAoQs70Qo6QzJZosbh9qjpIgbGeGemiVFSiw9iy4K"
    "g42wuihSxLIrNEHaUvSZMnfd66TOLKBiSKIio4csNgM/VYVVl8qaDCwEc08YceRs2ghKMq"
    "xoG+ISPyqvOItsgNloqizUNpKui5ZHYs5A+9gWSgy3Pzluls/rfUTbs5DVeOlW3/hFdp5W"
    "3bgeIWvZeVplabtYvGYD1UPBNFoWjvOG4TiOz/4rgXWOvz2sfpsWVM9wzR91ww4zS4I80C"
    "lXSJRfe5LZCLcioKGVpK+uUGnmq2FyjyerC0BFRnB9hrO1qj40IgK3nKKjpHitJ0+l0qK0"
    "ICKPZ8e6lRySZWoRWYnjnSbt6lUOwcrtm3pxnco59eI6wTuVFAYts+7LZQA6QFY759Rigj"
    "seIXlYCOZ4lwKXgrkTJG9K5HAncER6eO5PSpDpoSoxNaYj0w82MyZZkOK3EHU412CEIhq/"
    "+xamrIV4L91rl5mpa2awZGbq75HrzEzNrKoVgnifVtU0NkBMJj9CTX5t8h3b0tCxmmPZd7"
    "LZbnawxdtwvMi+aMsRF97aLxl1Gn0EAVWNwFLVgIp/2e20wJZ4B5ETRcAM4kIIZAPIOtBx"
    "5SOgq0ACWMySDLLk29xAHVc4bgQAL+QBaQxObvoS6lYoGQbcbGliTJoeyGP5wuPIyhi0o/"
    "As07IZqW7k1fdip/rh7Oz8/Ors5PzyunlxddW8PtlNCeGipLnhRrgTeoFV98vWLDYvF3Tg"
    "Fhmq0earl8MBdsRVVisbw0lPHE3abZ7vkLAm388pIj9vOaHrFFnXu4RCQr8nWqmBuPGY75"
    "HfuwxDEWW4Pf6TwH8Wf53wE178zAljmqco6i6JSRiNRKyd9u548W7CDTvieCgMBuRVYoum"
    "aGBlPnLSJr35CeTOBBQ5NicToRPrmeolC3Qh05QXx4Q4T0d6U3mZAK+FraXdePUW+j/9oM"
    "7URUTOg3hTj1O/yiOxsgae7zlxWofvCp/4oZ1Wy7qcIkciWt955Mz+U2rZS7osoTxeEubx"
    "Hunxbqcbm0emkosFNoqUOZPFQEzPJs2yReinYjuEaXYIg1pfCO4UsWh+cha6UR07bdg8P1"
    "ckeSPSnDRZhlaArA4RaUWv79n2Vzz0h7kRkmb7y1bPcvE9SMskaZUlqWNIzmRa8xMx09rL"
    "W14eC/Qrt7w8rp4HBnHaLS9/78q65VXkLg4HNXm+bkRs3tglR0l7NpJbp0j3W+ZoW6ajbW"
    "xQfvwqND4Q/zANdsEEyM00/rbNZkIC5GbI+oMHVQaE7eo1RPc0lfZ8mqA9n0am2jUiN4Li"
    "HWw9JOV72L7N0m5vvrShZUKZk9m3/wPN6PO3"
)
