/* synfin in CI: `synfin ci` exit statuses (0 nothing new, 1 new, 2 error; an empty or
 * missing corpus is an error), its JUnit validated against the JUnit XSD
 * (third_party/schemas/junit-10.xsd, xmllint), its SARIF against the SARIF 2.1.0 schema
 * (python3-jsonschema; the schema from $SYNFIN_SCHEMAS, or the shared third_party
 * folder beside the source tree: that part is skipped when neither has it), the
 * lifecycle SVG rendered by rsvg-convert, and the example pipelines of docs/ci/ run
 * here. Needs SYNFIN_BIN (set by ctest). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sh.h"

static const char *bin;
static char tmp[64];
static char out[1 << 16];

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && st.st_size > 0;
}

static int have(const char *tool)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

/* The SARIF schema: $SYNFIN_SCHEMAS, else third_party/schemas beside the source tree's
 * parent (where CI lays shared/), else NULL. */
static const char *sarif_schema(char *buf, size_t cap)
{
	const char *dirs[] = {getenv("SYNFIN_SCHEMAS"), "../shared/third_party/schemas",
			      "/work/shared/third_party/schemas"};
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (!dirs[i])
			continue;
		snprintf(buf, cap, "%s/sarif-schema-2.1.0.json", dirs[i]);
		if (exists(buf))
			return buf;
	}
	return NULL;
}

static void empty_or_missing_corpus_is_an_error(void)
{
	char dir[128];
	snprintf(dir, sizeof dir, "%s/empty", tmp);
	CHECK_EQ(mkdir(dir, 0755), 0);
	CHECK_EQ(sh(out, sizeof out, "%s replay %s --target model", bin, dir), 2);
	CHECK(strstr(out, "empty corpus is an error") != NULL);
	CHECK_EQ(sh(out, sizeof out, "%s ci --target model --time 0 --regress %s --out %s/e", bin,
		    dir, tmp),
		 2);
	CHECK_EQ(sh(out, sizeof out, "%s ci --target model --time x", bin), 2);
	CHECK_EQ(sh(out, sizeof out, "%s ci --time 1", bin), 2);
}

static void validate(const char *dir, int expect_failures)
{
	char path[256], schema[512];
	snprintf(path, sizeof path, "%s/junit.xml", dir);
	CHECK(exists(path));
	if (have("xmllint")) {
		CHECK_EQ(sh(out, sizeof out,
			    "xmllint --noout --schema third_party/schemas/junit-10.xsd %s", path),
			 0);
		CHECK(strstr(out, "validates") != NULL);
	} else {
		printf("xmllint missing: JUnit not validated (install libxml2-utils)\n");
	}
	/* counts and times on every suite, one suite per corpus directory + the campaign */
	CHECK_EQ(sh(out, sizeof out,
		    "grep -c '<testsuite name=.*tests=.*failures=.*errors=.*time=' %s", path),
		 0);
	CHECK(atoi(out) == 2);
	CHECK_EQ(sh(out, sizeof out, "grep -c '<system-out>' %s", path), 0);
	CHECK(atoi(out) > 0);
	if (expect_failures) {
		CHECK_EQ(sh(out, sizeof out,
			    "grep -c '<failure message=\"new root-cause group: rule' %s", path),
			 0);
		CHECK(atoi(out) > 0);
	}
	snprintf(path, sizeof path, "%s/synfin.sarif", dir);
	CHECK(exists(path));
	if (sarif_schema(schema, sizeof schema) &&
	    sh(out, sizeof out, "/usr/bin/python3 -c 'import jsonschema'") == 0) {
		CHECK_EQ(sh(out, sizeof out,
			    "/usr/bin/python3 -c 'import json,sys,jsonschema; "
			    "v=jsonschema.Draft4Validator(json.load(open(sys.argv[1]))); "
			    "d=json.load(open(sys.argv[2])); e=list(v.iter_errors(d)); "
			    "[print(x.message) for x in e[:5]]; "
			    "r=d[\"runs\"][0]; print(len(r[\"results\"]), "
			    "len(r[\"tool\"][\"driver\"][\"rules\"])); "
			    "sys.exit(1 if e else 0)' %s %s",
			    schema, path),
			 0);
		int results = -1, rules = -1;
		sscanf(out, "%d %d", &results, &rules);
		CHECK(rules > 100); /* the whole rule table */
		CHECK(expect_failures ? results > 0 : results == 0);
	} else {
		printf("SARIF schema or python3-jsonschema missing: SARIF not validated\n");
	}
	/* the picture marks divergent transitions red exactly when there are any */
	snprintf(path, sizeof path, "%s/lifecycle.dot", dir);
	CHECK(exists(path));
	CHECK_EQ(sh(out, sizeof out, "grep -c 'color=\"#c0392b\".*divergent' %s", path),
		 expect_failures ? 0 : 1);
	CHECK(expect_failures ? atoi(out) > 0 : atoi(out) == 0);
	CHECK_EQ(sh(out, sizeof out,
		    "grep -c '\"ESTABLISHED\" -> \"FIN-WAIT-1\" \\[color=\"#1f4e79\"' %s", path),
		 0);
	snprintf(path, sizeof path, "%s/lifecycle.svg", dir);
	if (have("dot") && have("rsvg-convert")) {
		CHECK(exists(path));
		CHECK_EQ(sh(out, sizeof out, "rsvg-convert -o %s/life.png %s", dir, path), 0);
		snprintf(path, sizeof path, "%s/life.png", dir);
		CHECK(exists(path));
	} else {
		printf("graphviz or rsvg-convert missing: lifecycle.svg not rendered\n");
	}
}

static void ci_on_a_fault_finds_new_groups_then_baselined_passes(void)
{
	char dir[128];
	snprintf(dir, sizeof dir, "%s/fault", tmp);
	/* a regression corpus the fault passes: only the campaign decides */
	CHECK_EQ(sh(out, sizeof out,
		    "mkdir -p %s/reg && cp corpus/seeds/01-passive-open.scn %s/reg/", tmp, tmp),
		 0);
	CHECK_EQ(
	    sh(out, sizeof out,
	       "%s ci --target model:fault=tw-ignore-fin --time 3 --out %s --regress %s/reg -- "
	       "-seed=3",
	       bin, dir, tmp),
	    1);
	CHECK(strstr(out, "NEW FINDINGS") != NULL);
	validate(dir, 1);
	/* every group accepted: nothing new, exit 0, no failure in the JUnit campaign suite */
	CHECK_EQ(sh(out, sizeof out,
		    "/usr/bin/python3 -c 'import json,sys; "
		    "[print(c[\"group\"]) for c in json.load(open(sys.argv[1]))[\"causes\"]]' "
		    "%s/summary.json > %s/baseline.txt",
		    dir, tmp),
		 0);
	CHECK_EQ(sh(out, sizeof out,
		    "%s ci --target model:fault=tw-ignore-fin --time 0 --out %s --regress %s/reg "
		    "--baseline %s/baseline.txt",
		    bin, dir, tmp, tmp),
		 0);
	CHECK(strstr(out, "nothing new") != NULL);
}

static void ci_on_the_model_is_clean(void)
{
	char dir[128];
	snprintf(dir, sizeof dir, "%s/model", tmp);
	CHECK_EQ(sh(out, sizeof out, "%s ci --target model --time 2 --out %s", bin, dir), 0);
	validate(dir, 0);
}

static void example_pipelines_run(void)
{
	int rc = sh(out, sizeof out, "/usr/bin/python3 docs/ci/check_pipelines.py %s", tmp);
	if (rc == 77) {
		printf("python3-yaml missing: pipelines not run\n");
		return;
	}
	CHECK_EQ(rc, 0);
	if (rc != 0)
		fputs(out, stderr);
}

int main(void)
{
	bin = getenv("SYNFIN_BIN");
	if (!bin) {
		printf("SYNFIN_BIN not set: run through ctest\n");
		return 77;
	}
	snprintf(tmp, sizeof tmp, "/tmp/synfin-test-ci-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	empty_or_missing_corpus_is_an_error();
	ci_on_a_fault_finds_new_groups_then_baselined_passes();
	ci_on_the_model_is_clean();
	example_pipelines_run();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	CHECK_EQ(system(cmd), 0);
	return check_done();
}
