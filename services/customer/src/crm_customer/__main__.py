"""`python -m crm_customer [serve|migrate|revision MESSAGE]`."""

from crm_customer.spec import SPEC
from crmkit.service import main


def run() -> None:
    main(SPEC)


if __name__ == "__main__":
    run()
