import pytest

from tests.billing.online.helpers import SANDBOX_SECRET, STRIPE_SECRET, build_family


@pytest.fixture(autouse=True)
def _online_settings(settings, tmp_path):
    settings.PAYMENT_PROVIDER = "sandbox"
    settings.SANDBOX_WEBHOOK_SECRET = SANDBOX_SECRET
    settings.SANDBOX_PAYMENTS_DIR = str(tmp_path / "sandbox")
    settings.SANDBOX_WEBHOOK_URL = ""
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_SECRET
    settings.STRIPE_SECRET_KEY = "sk_test_not_used"


@pytest.fixture
def family(world):
    return build_family(world)
