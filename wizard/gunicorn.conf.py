# Threaded workers: a slow Clickatell answer holds one thread, not a whole worker.
import os

workers = int(os.environ.get("PORTAL_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("PORTAL_THREADS", "32"))
timeout = 60
control_socket_disable = True
accesslog = "-"
# Request lines, with a customer's link token replaced (post_worker_init) and the setup named by its
# reference code (the X-Setup-Reference header the wizard sets). No query string holds credentials.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms %({x-setup-reference}o)s'


def post_worker_init(worker):
    # Django is set up in the worker by now, so the project's log filter can be imported.
    from wizard.vault.redaction import RedactSecretsFilter

    worker.log.access_log.addFilter(RedactSecretsFilter())
    worker.log.error_log.addFilter(RedactSecretsFilter())
