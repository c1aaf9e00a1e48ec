/* libFuzzer target: any bytes as a class roster (id,name[,email] lines).
 * Every seat kept must have a valid id and a name, and ids are distinct. */
#include "class_plan.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_seat_spec *seats = NULL;
	size_t n = 0, problems;

	problems = vl_class_roster_parse((const char *)data, size, "roster.csv", &d, &seats, &n);
	if (problems != d.n)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (!vl_class_seat_id_ok(seats[i].id) || !seats[i].name || !seats[i].name[0] ||
		    seats[i].line <= 0)
			abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(seats[i].id, seats[j].id) == 0)
				abort();
	}
	for (size_t i = 0; i < d.n; i++)
		if (d.items[i].line <= 0 && n > 0)
			abort();   /* a problem with seats is on a line */
	vl_seat_specs_free(seats, n);
	vl_diags_release(&d);
	return 0;
}
