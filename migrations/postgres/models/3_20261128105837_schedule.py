from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "tenant_connection" ADD "last_full_sync_at" TIMESTAMPTZ;
        ALTER TABLE "tenant_connection" ADD "next_sync_at" TIMESTAMPTZ;
        ALTER TABLE "tenant_connection" ADD "delta_link" TEXT;
        ALTER TABLE "tenant_connection" ADD "delta_config_version" INT NOT NULL DEFAULT 0;
        ALTER TABLE "tenant_connection" ADD "sync_interval_minutes" INT;
        CREATE INDEX IF NOT EXISTS "idx_tenant_conn_next_sy_ce3273" ON "tenant_connection" ("next_sync_at");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_tenant_conn_next_sy_ce3273";
        ALTER TABLE "tenant_connection" DROP COLUMN "last_full_sync_at";
        ALTER TABLE "tenant_connection" DROP COLUMN "next_sync_at";
        ALTER TABLE "tenant_connection" DROP COLUMN "delta_link";
        ALTER TABLE "tenant_connection" DROP COLUMN "delta_config_version";
        ALTER TABLE "tenant_connection" DROP COLUMN "sync_interval_minutes";"""


MODELS_STATE = (
    "eJztXe1zmzgT/1c0/vK0M2mneW3Oz83NOA5tfXVwHr/c3VzdoRjLti5Y+EA0zdz1f38kAc"
    "a8BoghmOqLwUIr4LdipV3trv5prY051K3XHU0zbExabfBPC6trSE/Cl45AS91s/AusgKgz"
    "nddVdyrNLGKqGmtroeoWpEVzaGkm2hBkYFqKbV1nhYZGKyK89ItsjP62oUKMJSQraNILnz"
    "7TYoTn8Bu0vL+bO2WBoD4PPCyas3vzcoU8bHhZD5N3vCK720zRDN1eY7/y5oGsDLytjZzH"
    "X0IMTZVA1jwxbfb47OncF/XeyHlSv4rziDs0c7hQbZ3svO5M8ctaiiIPxspIGitKKwdAmo"
    "EZuPRRLf72S/YIr06Oz96eXZ5enF3SKvwxtyVvvzu39oFxCDk88rj1nV9XierU4Bj7oPJj"
    "BNbuSjXjcfXqh5CljxxG1sMxDVqvwMfW709VgLtWvyk6xEuyYoi+eZMC5W+dYfdDZ/iC1n"
    "rJbmnQD8D5MGT30olzjeEd/MLi8ZWwveYY9+gzqViDEaw92jpj3eqNlWvptjMc30jyuA0C"
    "f6f4ZnTbBvSnVYgfmdiRwo0wMzQTMsAUlURZck2vELSG8d0+SBliyNwlfe2d1Ic92T8F+o"
    "LzAdYfXPmWAv24dyONxp0bztS1Zf2tc/w6Y4ldOeGlD6HSFxchNm0bAb/3xh8A+wv+HMgS"
    "h9ewyNLkd/Trjf9ssWdSbWIo2LhX1PmOKPZKPdS+s0Fkcbcj8VjBTNXu7lVzrgSu+N1D3S"
    "DlDj5Y0c5x5VK++ziEusqxjXYDbzDdoI/w4QC7wHev03ulflfwMYJ4rtgWNJ8IkoTnE9pK"
    "U1GyEIFPRGhEm2gsPA9YU0wbPxUi2szQxk1FiV7FUGNNPxGnMcQqJt1tc00CjMl148RIkv"
    "TRS+uTdbhExeqSvxK7N7tTUJLHKUxbGZ+iLzmjSSZ9qdUBM6ia0AR0ojGHmCBVbwODDscA"
    "EQuMPnRenZxfAGQBixi0xn/Bl40JF+jbF7CgHLEA1aWAadyDe0Q7gE34fwvSxsjr8NSr7H"
    "sJDU9oePnkRqtVFrTl63emoRfW7zzaWut3neubntwG/DDFY6n7Qe51ex1a5J/XQ7tzpFSe"
    "ru5T7IcFzytHAvAeX2SA9zislfnwsktBeOlYpqxUa5UH4F2aOvfygiBfnGUA+eIsEWR2SV"
    "gofkwLRWAQgV+Nu0JcD1Lugevu49aF6QfCZA+TVC67CyhKrllukOjx2e4hfMh7mPBG7HsR"
    "mKMYv6PaDFpiqrhFpmUJljy/pQODOEldpsWmer/VvEK9iyJA3xsSZ1DvjLqda6n1PdlyWq"
    "buTecUeAn7xlLCxIzVwUM1jtJ0cY3XVXRjqcBt7UeV8gGGgNk6/2MBqudqxhoChKmmTNVf"
    "G7eBO+ICwwT2Zs5PX/C3A7MHwE9eHrGL1h3abNhFpjCD+9XDy6hOXu6tHlfJP7VMx5CmOh"
    "aiz7l09Cu0/FHU9J9OTk5P3568Ob24PD97+/b88s1WfEUvpcmxq957JsoCo9HjyrwYQ/Zp"
    "NNnF1TOMFlHkfeo6Kzmt7lCi86A2cI5TPLm95v+d4xSPPvZu24D9TvFQuhn8Jl23gXtSRM"
    "W/zKAdXSYqR5dh3YhJblUxZn9BLf4DSNZDY0gbZ97avzIK1yrSc8HsETQO3NNM5qrTFHvV"
    "adRgNUfWRlcflLwW2jBd49A+Oc9ivaK1kq2D5xH7lbdynW/sDFEVGjxrplPve+xki935QN"
    "2hEIBGAaWTfStpMpJkBvIoGicLzrII3rNkuXsW9QLjymDMmvqvo4GcYFz1ScI2NqQR8C/Q"
    "kVXaNLr188LGfIYJZjbSCcLWa3bbX8piQArgDKKAvc0D+sVN548wD7r9wVXYkMYauAr3dx"
    "vnkx8+gVBmHjeIuZr9E41hzXO2OQoZw/xeVSdDmOcpF2MB23GiSzZ9eROYTCavXH77n/g4"
    "ztrl837u7PI5YlfaMcfuVDsCwSsh/Syf+elHsT2V5iJyCIpeZYu6pah6ftfPi7JHJJDOhv"
    "QCmRbJrVIHqRo3iT7O5Pp0nOL6dBx1fdLVAkAHiATOWXD+y5gpBJEkP7N4nANEjcO5FFe+"
    "DcUoF8Zbgsbhu39b8tqYoXw92KcQ8D4Kr2XYplbYEdWnrhDqm4486fRzAu5StYFznGJJHg"
    "87bcAPRdaojrMJ7BR5XcNlqrrZR8tep+KwER7lUgjxAKlAPCvifC6XX3eMoW0e5qXoNnwh"
    "ioOUA+8AUfOA3n8cgecuQ4UCff84dyfD0KGK051tdqhDoM8o+eGhnubKNBj0A4sCV72QY5"
    "M8ubmS6DjKuUArIce0Gl364mKBhYcW8oaOUguP6Dp7RItoh2Qh19xoB9eDtQDXg5SC63Xh"
    "eszHHolmF56rTfG+aSKiIp6ksniScOfdA7ANy5USRnXng62TZ0JvvTFMcqNuNs5LRvwTgh"
    "WO0rwUEK+qrHfqPhqe8/tpm0fIaHTab6EF0ngaFPBV1W0IXhgLWgJZUMwcblSTrCEmPEbm"
    "y4Rye4EwnH95CUzDZsE0xOAtMaCjsTkl3ifWq0ILJGrht4n1rRA+ElX6SNR4/nJ4MPuw8u"
    "6dx5y1JWigQ0Qpfu++AMmLcoNdT0pB2hfc+aREhE5My4WiU72iE5x3PHFK3uCcc+HpeeTz"
    "FXpPo/WeEeVRDw8hxdIirRi9J1jhKE3vsWhVBWHF3KmcKS8B7Rom0yhYA68QbtMTvNR5Eo"
    "EjYK2oMvVKR1/h/AjoBssQA+wNyxXAcvWxhEzAWPBsf19oOwR+iU9IUMI9RHJAodXUUSTt"
    "fbLCunzudGlBqsblpNu/H8pCN+6jAI/ht4Se69VvhEaTtjgk/TEOrAtFwvS2a0P9gfzeqx"
    "6O3Qs5/XzbIBNaBdbtgpQNXLc73HU6sSjf/OXZLIvywnYhNO3nFp/70rSfSy3kjxGjDTpK"
    "epoS6NbYc3juzso1fyaxgCTysNfD+l5G+JaYt/yI8xbhTNg0rgtnwtrMU4XrW1WplMUGa/"
    "n2xnIdxZ4IUsRBrYlQPec2YvWMnal2FzEvcVacaujn1ErRDt3N8vavIablamJJmFiSpqCp"
    "QqRmqn6BjqCvUClqnksi30vazQYAH1yxs2MkZMYMClvqCjMo/G8iTdzM3DkyKDhUbeAcp3"
    "g4keWe/L4N3JMpHk26XUm6ZpW2p1P8rtPrsyLnOMXdjtyV+rxoe9rKxrqSMzDQuy+Xztyn"
    "CC93yA8uHcao+0G6nvQlyjn3rB4smZsPSmweytRY6h2qYjHUhVixLTnYKOrNSrVyZjJyCS"
    "rs8LSqDec5O3xBg+PpSaZkDCm5GCKeB5Boq7jkAIlD8Q5FdbaHNwcy+rom2DwLjz6FgDMM"
    "p2vbzAHnDoWAMwIndhKA5wJ0l0ZAGpluOztV0do6iZuqJTv1RwgFuEng2pjZyXJ12zhSAX"
    "AYYGiaRpyFNnkbkS2BADMMJjGIGpNBLBHLbX2xd0hCz1TW0LLUZS4VIELYuKybx2+yZudN"
    "Tc8bdTxgVgTdC+HInTAsjlxouzm03S1yyiwmxjV5E5EQmZAmiWqZ8KmJgfowvSuy+NS4cV"
    "8FuB6kFMn36uNCE+XyAmFkrQqxOUQq+FxnPq8g/SZnVBoXYHSYVnC6zpwWXnElzYJEbIzw"
    "OayDn9LRE9PtibijZ4o7yrD5aB5PvC5vpG8sJUzMhwYBX6ojXqTDxnjkxXXqZNc8d9+I4G"
    "dVnY+e63TE/fS8GDKvTHjpVemlZ2lG0qYMGXzHPOI6R3q1Ot3uYCKP28A9meJRb8z8jOhv"
    "KxsTSvYxOkAPvltJvu7J73Pavz2yNnBPprg7kGWpO+bOeN7pFMuSdD1ShlJnMv7QBrv/vG"
    "u08khiXA38neLr3minyd1/RXi9/z06HG4VWeeIUjZuoeM80zrHecoyx3l0lUNsslR1chsX"
    "sLxxwyGyxvXuUlJ3Lk2KGZwrfCyOGUOSUwpFKRuAeNWphVbGGipp5qvk7h5D2jzhUk7AvK"
    "O2JKybJiMepmtAf69g7zYftQKLqSFaYYavsxmeGHcQK5qqrWLG7eSBJETWBCFW9TBCb79A"
    "S9ss+pEFicVXVuevLLgbR1GtP9pKjb+71uDdu15XagPnSLV06bYzHN9wBd4/L2SNyRIgc5"
    "wcIHMcCZBZmoa9SXTvzsadcBsVzjRkt9vmYQ+jaQP2O8Wdfl95PxxMbkdt4J9P8Ujqu0YV"
    "76we7LKg7swwHMzRPEYJ+nU0kBOMKrHUYQGKNAL+BTqySluTa/28sDG3xIOZTbsNwtZrdr"
    "9fnkFRYmilj3DhwSwkJVkD4RFuu5lvLvYEqQRb9s6WtUq0FZ020Kea2XGp/bPJu5hmKhR5"
    "k1s5r8SjJG1Af6b4ptPjYci9fhF5lsWik2zPiduIhU7llK/QtGLnBmkeGyFCEa4RCS5i+U"
    "ho49D8qurKGmHaU/OEwiTSCwfsKNiYqot8R+sCCk2YthJ9pspV3SapM3OoE1XREb7LYzMI"
    "UtVYdamtycBBsPCAkUQuho2wJKOKNlEW9FZFxVlsA8JGU2ehJsKHkj+v5oYPiZS8TeN6zM"
    "cuUvJWpW5Vvu1lzQZEEW9QGz/4vPEG1W5zWbN+mxXUJ+xyKfIhF8iH7G65+USoInt8NhEq"
    "034yTH6G46YAVGaISgeaSFu1YgJT3CtHaeEoql+nzBgUEVpSZWhJok0q2UEv2Q5Vq5CSwv"
    "6/55n8f89T/H/PwytG7KPKgbBbvYHoHmfNkZSWIilmPY7AuDl28pL1Dkn169XPY97b28p0"
    "RNtJnkHufzD7/n/Fh+88"
)
