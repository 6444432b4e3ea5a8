from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """{"count", "next", "previous", "results"}, 20 a page, up to 100 on request."""

    page_size_query_param = "page_size"
    max_page_size = 100
