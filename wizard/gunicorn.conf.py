# Threaded workers: a slow Clickatell answer holds one thread, not a whole worker.
import os

workers = int(os.environ.get("PORTAL_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("PORTAL_THREADS", "32"))
timeout = 60
control_socket_disable = True
accesslog = "-"
# Request lines only: wizard URLs carry a setup token, never a secret, and no query holds credentials.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
