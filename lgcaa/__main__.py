from lgcaa.cli import main

raise SystemExit(main())
