from rest_framework import pagination, serializers

from registry.api.fields import MAX_INTEGER, IntegerField

MAX_PAGE_SIZE = 100


class PageQuerySerializer(serializers.Serializer):
    page = IntegerField(required=False, min_value=1, max_value=MAX_INTEGER)
    page_size = IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)


class PageNumberPagination(pagination.PageNumberPagination):
    """{"count", "next", "previous", "results"}, 20 a page, up to 100 on request.

    `page` and `page_size` are checked like any input: a value that is not a whole
    number in its range answers 400, as the schema says, instead of DRF's silent
    fallback to the default page size."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    # Only numbers: the schema's `page` is an integer.
    last_page_strings = ()

    def paginate_queryset(self, queryset, request, view=None):
        query = PageQuerySerializer(data={
            name: request.query_params[name] for name in ("page", "page_size")
            if name in request.query_params})
        query.is_valid(raise_exception=True)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        bounds = {"page": (1, MAX_INTEGER), "page_size": (1, MAX_PAGE_SIZE)}
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            low, high = bounds[parameter["name"]]
            parameter["schema"] = {**parameter["schema"], "minimum": low, "maximum": high}
        return parameters
