"""`python -m crm_analytics [serve|migrate|revision MESSAGE]`."""

from crm_analytics.spec import SPEC
from crmkit.service import main


def run() -> None:
    main(SPEC)


if __name__ == "__main__":
    run()
