"""`python -m crm_order [serve|migrate|revision MESSAGE]`."""

from crm_order.spec import SPEC
from crmkit.service import main


def run() -> None:
    main(SPEC)


if __name__ == "__main__":
    run()
