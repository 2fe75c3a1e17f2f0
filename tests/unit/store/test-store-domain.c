/* SPDX-License-Identifier: MIT */
/*
 * test-store-domain.c: unit tests for src/store/store-domain.c: creating,
 * listing and deleting secondary domains, the main domain's special
 * place, bad names, and refusing to delete a domain with accounts.
 */
#include "test-store-common.h"

static void
test_domain_create_list(void **state)
{
	struct store_test *t = *state;
	char **names;
	unsigned int count;

	assert_int_equal(store_domain_list(t->store, &names, &count), 0);
	assert_int_equal(count, 0);
	store_names_free(&names, count);

	assert_int_equal(store_domain_create(t->store, "Example.ORG"), 0);
	assert_int_equal(store_domain_create(t->store, "b.example"), 0);
	assert_int_equal(store_domain_create(t->store, "a.example"), 0);
	assert_true(store_test_is_dir(t, "Domains/example.org"));
	assert_true(store_domain_exists(t->store, "EXAMPLE.org"));
	assert_false(store_domain_exists(t->store, "nope.org"));
	assert_false(store_domain_exists(t->store, "../Accounts"));
	assert_true(store_domain_exists(t->store, "localhost"));

	/* junk in Domains/ is not listed */
	store_test_write(t, "Domains/file.org", "x");
	store_test_write(t, "Domains/.hidden", "x");
	assert_int_equal(store_domain_list(t->store, &names, &count), 0);
	assert_int_equal(count, 3);
	assert_string_equal(names[0], "a.example");
	assert_string_equal(names[1], "b.example");
	assert_string_equal(names[2], "example.org");
	store_names_free(&names, count);
}

static void
test_domain_create_errors(void **state)
{
	struct store_test *t = *state;

	assert_int_equal(store_domain_create(t->store, "example.org"), 0);
	assert_int_equal(store_domain_create(t->store, "EXAMPLE.org"), -1);
	store_test_assert_error(STORE_ERROR_EXISTS);
	assert_int_equal(store_domain_create(t->store, "localhost"), -1);
	store_test_assert_error(STORE_ERROR_EXISTS);
	assert_int_equal(store_domain_create(t->store, "../evil"), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_int_equal(store_domain_create(t->store, "a/b"), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_int_equal(store_domain_create(t->store, ""), -1);
	store_test_assert_error(STORE_ERROR_INVALID);
	assert_false(store_test_exists(t, "evil"));
	store_clear_error();
}

static void
test_domain_delete(void **state)
{
	struct store_test *t = *state;
	char **names;
	unsigned int count;

	assert_int_equal(store_domain_create(t->store, "example.org"), 0);
	assert_int_equal(store_domain_delete(t->store, "nope.org"), -1);
	store_test_assert_error(STORE_ERROR_NOT_FOUND);
	assert_int_equal(store_domain_delete(t->store, "localhost"), -1);
	store_test_assert_error(STORE_ERROR_NOT_POSSIBLE);
	assert_int_equal(store_domain_delete(t->store, ".."), -1);
	store_test_assert_error(STORE_ERROR_INVALID);

	/* a domain with an account (either kind) stays */
	store_test_write(t, "Domains/example.org/john.settings", "{}");
	assert_int_equal(store_domain_delete(t->store, "example.org"), -1);
	store_test_assert_error(STORE_ERROR_NOT_POSSIBLE);
	assert_true(store_test_exists(t, "Domains/example.org/john.settings"));
	store_test_unlink(t, "Domains/example.org/john.settings");

	/* junk alone does not keep it */
	store_test_write(t, "Domains/example.org/junk.idx", "x");
	assert_int_equal(store_domain_delete(t->store, "Example.org"), 0);
	assert_false(store_test_exists(t, "Domains/example.org"));
	assert_int_equal(store_domain_list(t->store, &names, &count), 0);
	assert_int_equal(count, 0);
	store_names_free(&names, count);
	store_clear_error();
}

static int
domain_create_op(struct store_test *t, void *context)
{
	return store_domain_create(t->store, context);
}

/* A creation whose mkdir or directory fsync fails leaves no directory. */
static void
test_domain_create_faults(void **state)
{
	struct store_test *t = *state;

	/* creates Settings/accounts.lock, the administration lock */
	assert_int_equal(store_domain_create(t->store, "example.com"), 0);
	assert_true(store_test_fault_sweep(t, "any", domain_create_op,
					   "example.org") >= 2);
	assert_true(store_domain_exists(t->store, "example.org"));
	assert_int_equal(store_test_fault_sweep(t, "fsync", domain_create_op,
						"example.net"), 1);
	assert_true(store_domain_exists(t->store, "example.net"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, store_test_setup, \
						store_test_teardown)
		T(test_domain_create_list),
		T(test_domain_create_errors),
		T(test_domain_delete),
		T(test_domain_create_faults),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
