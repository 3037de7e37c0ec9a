import { Hono, type Context } from 'hono';
import type { AppEnv, RequireUser } from '../../platform/env';
import { AdminHomePage, AuditorHomePage, EmployeeHome, ManagerHomePage } from './pages';
import type { HomeService } from './service';

/** `/`: the home of each role. Signed-out visitors are sent to sign in and come back here. */
export function homeRoutes(deps: { home: HomeService; requireUser: RequireUser; csrfOf: (c: Context<AppEnv>) => Promise<string> }) {
  const { home } = deps;
  return new Hono<AppEnv>().get('/', deps.requireUser(), async (c) => {
    const user = c.get('user');
    switch (user.role) {
      case 'admin': {
        const invited = c.req.query('invited');
        return c.html(
          <AdminHomePage
            user={user}
            home={await home.adminHome(user)}
            csrf={await deps.csrfOf(c)}
            invited={invited && /^\d+$/.test(invited) ? Number(invited) : undefined}
          />,
        );
      }
      case 'manager':
        return c.html(<ManagerHomePage user={user} home={await home.managerHome(user)} />);
      case 'auditor':
        return c.html(<AuditorHomePage user={user} week={await home.ownWeek(user)} />);
      case 'employee':
        return c.html(<EmployeeHome user={user} week={await home.ownWeek(user)} />);
    }
  });
}
