from marketsync.resources.letzshop.client import LetzshopApi, LetzshopError, LetzshopResource

__all__ = ["LetzshopApi", "LetzshopError", "LetzshopResource"]
