from cloudmodel_operator.cli import main

raise SystemExit(main())
