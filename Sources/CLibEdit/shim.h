#include <stdio.h>
#include <wchar.h>
#include <editline/readline.h>
