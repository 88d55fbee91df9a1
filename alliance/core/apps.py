from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "alliance.core"
    label = "core"
    verbose_name = "Alliance core"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from alliance.core.middleware import stamp_renewal_at_login

        user_logged_in.connect(stamp_renewal_at_login, dispatch_uid="core.idle_timeout_stamp")
